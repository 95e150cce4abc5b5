/**
 * Doc comments read from the source itself, so the reference says what the code's own comments
 * say (no second copy to keep in step). A reader of this project's own formatting (Biome), not a
 * TypeScript parser: a doc comment directly above `export const|function|class|interface|type
 * NAME`, or above an interface member.
 */
import { readFileSync } from 'node:fs';

export interface Documented {
  readonly name: string;
  readonly doc: string;
}

export interface Member extends Documented {
  readonly optional: boolean;
  readonly type: string;
}

export function readSource(url: URL): string {
  return readFileSync(url, 'utf8');
}

/** The text of a `/** … *\/` comment, its leading `*`s and line breaks folded into spaces. */
function commentText(comment: string): string {
  return comment
    .replace(/^\/\*\*|\*\/$/g, '')
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, '').trim())
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const DECLARATION =
  /(\/\*\*(?:(?!\*\/)[\s\S])*\*\/)?\s*export (?:declare )?(?:async )?(const|function|class|interface|type) (\w+)/g;

/** Every `export const|function|class|interface|type` of a module, with its doc comment and kind. */
export function exportedDeclarations(source: string): (Documented & { readonly kind: string })[] {
  return [...source.matchAll(DECLARATION)].map((match) => ({
    name: match[3] as string,
    kind: match[2] as string,
    doc: match[1] ? commentText(match[1]) : '',
  }));
}

/** The body of `interface name { … }` (without its braces). */
function interfaceBody(source: string, name: string): string {
  const start = new RegExp(`interface ${name}\\b[^{]*\\{`).exec(source);
  if (!start) throw new Error(`no interface ${name}`);
  let depth = 1;
  let i = start.index + start[0].length;
  const from = i;
  for (; i < source.length && depth > 0; i++) {
    if (source.startsWith('/*', i)) i = source.indexOf('*/', i) + 1;
    else if (source[i] === '{') depth++;
    else if (source[i] === '}') depth--;
  }
  return source.slice(from, i - 1);
}

/** An interface's members, with their doc comments: its top-level `name?: type;` entries. */
export function interfaceMembers(source: string, name: string): Member[] {
  const body = interfaceBody(source, name);
  const members: Member[] = [];
  let depth = 0;
  let doc = '';
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body.startsWith('/**', i) && depth === 0) {
      const end = body.indexOf('*/', i) + 2;
      doc = commentText(body.slice(i, end));
      i = end - 1;
      start = end;
    } else if (body.startsWith('//', i)) i = body.indexOf('\n', i);
    else if ('{([<'.includes(body[i] as string)) depth++;
    else if ('})]>'.includes(body[i] as string) && body[i - 1] !== '=') depth--;
    else if (body[i] === ';' && depth === 0) {
      const match = /^\s*(?:readonly\s+)?(\w+)(\?)?\s*:\s*([\s\S]*)$/.exec(body.slice(start, i));
      if (match) {
        members.push({
          name: match[1] as string,
          optional: match[2] === '?',
          type: (match[3] as string).replace(/\s+/g, ' ').trim(),
          doc,
        });
      }
      doc = '';
      start = i + 1;
    }
  }
  return members;
}
