/**
 * docs/reference/library.md: the package's exports (`src/lib.ts`) with the doc comments of their
 * declarations, and each exported interface's members with theirs. Read from the source rather
 * than by typedoc: no new dependency, and the doc comments are what a user's editor shows from the
 * published declarations (the build keeps them).
 */
import { exportedDeclarations, interfaceMembers, readSource } from './jsdoc.ts';
import { cell, code, page } from './markdown.ts';

const LIB = new URL('../../src/lib.ts', import.meta.url);

/** `export { a, type B } from './x.ts'` lines of the module at `at`: each name (as exported) with its module. */
function reExports(source: string, at: URL): { readonly name: string; readonly from: URL }[] {
  return [...source.matchAll(/export (?:type )?\{([^}]*)\} from '([^']+)'/g)].flatMap((match) =>
    (match[1] as string)
      .split(',')
      .map((part) => part.replace(/^\s*type\s+/, '').trim())
      .filter(Boolean)
      .map((name) => ({ name, from: new URL(match[2] as string, at) })),
  );
}

function describe(name: string, from: URL): string {
  const source = readSource(from);
  const declaration = exportedDeclarations(source).find((candidate) => candidate.name === name);
  if (!declaration) {
    // Passed on from another module: describe it where it is declared.
    const onward = reExports(source, from).find((candidate) => candidate.name === name);
    if (!onward) throw new Error(`${name} is not declared in ${from.pathname}`);
    return describe(name, onward.from);
  }
  const lines = [`### ${code(name)} (${declaration.kind})`, declaration.doc || '(no doc comment)'];
  if (declaration.kind === 'interface') {
    const members = interfaceMembers(source, name).map(
      (member) => `- ${code(`${member.name}${member.optional ? '?' : ''}`)}: ${cell(member.doc || '(no doc comment)')}`,
    );
    if (members.length > 0) lines.push(members.join('\n'));
  }
  return lines.join('\n\n');
}

export function libraryPage(): string {
  const exported = reExports(readSource(LIB), LIB).sort((a, b) => a.name.localeCompare(b.name));
  return page(
    'Library API (`edge-verifier`)',
    'the exports of `src/lib.ts` and the doc comments of their declarations',
    [
      'What `import … from "edge-verifier"` gives you. How to use it: [the library guide](../guides/library.md).',
      ...exported.map(({ name, from }) => describe(name, from)),
    ],
  );
}
