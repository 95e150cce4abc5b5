/**
 * The documentation is tested like code: the generated reference matches what generates it, every
 * relative link in README.md and docs/ resolves (to a file, and to a heading for an anchor), every
 * `npm run` it names exists, every `toml` and `json` block parses, and the log-event table holds
 * exactly the events the source emits.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseToml } from 'smol-toml';
import { LOG_EVENTS } from '../src/observe/events.ts';
import { PAGES, REFERENCE_DIR } from './reference/pages.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path, suffix);
    return entry.name.endsWith(suffix) ? [path] : [];
  });
}

const DOCS = [join(ROOT, 'README.md'), ...filesUnder(join(ROOT, 'docs'), '.md')];
const read = (path: string) => readFileSync(path, 'utf8');

/** Fenced blocks with their language, and the text outside them. */
function blocksOf(markdown: string): { readonly blocks: { lang: string; body: string }[]; readonly prose: string } {
  const blocks: { lang: string; body: string }[] = [];
  const prose = markdown.replace(/^```([\w-]*)[^\n]*\n([\s\S]*?)^```\s*$/gm, (_all, lang: string, body: string) => {
    blocks.push({ lang, body });
    return '';
  });
  return { blocks, prose };
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of blocksOf(markdown).prose.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = (heading as string)
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

describe('the generated reference (npm run docs)', () => {
  for (const [name, make] of Object.entries(PAGES)) {
    test(`docs/reference/${name} is what its source generates`, () => {
      const committed = existsSync(new URL(name, REFERENCE_DIR))
        ? read(fileURLToPath(new URL(name, REFERENCE_DIR)))
        : '';
      assert.equal(committed, make(), `docs/reference/${name} is stale: run npm run docs`);
    });
  }
});

describe('README.md and docs/', () => {
  test('every relative link resolves, anchors included', () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      const { prose } = blocksOf(read(file));
      for (const [, target] of prose.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        if (/^[a-z]+:/i.test(target as string)) continue;
        const [path, anchor] = (target as string).split('#') as [string, string | undefined];
        const resolved = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
        const where = `${relative(ROOT, file)}: ${target}`;
        if (!existsSync(resolved)) broken.push(`${where} (no such file)`);
        else if (anchor && resolved.endsWith('.md') && !anchorsOf(read(resolved)).has(anchor)) {
          broken.push(`${where} (no such heading)`);
        }
      }
    }
    assert.deepEqual(broken, []);
  });

  test('every `npm run` named is a script of package.json', () => {
    const scripts = Object.keys(JSON.parse(read(join(ROOT, 'package.json'))).scripts as object);
    const unknown = DOCS.flatMap((file) =>
      [...read(file).matchAll(/npm run ([\w:-]+)/g)]
        .map((match) => match[1] as string)
        .filter((name) => !scripts.includes(name))
        .map((name) => `${relative(ROOT, file)}: npm run ${name}`),
    );
    assert.deepEqual(unknown, []);
  });

  test('every toml and json block parses', () => {
    const failing: string[] = [];
    for (const file of DOCS) {
      for (const { lang, body } of blocksOf(read(file)).blocks) {
        try {
          if (lang === 'toml') parseToml(body);
          else if (lang === 'json') JSON.parse(body);
        } catch (error) {
          failing.push(`${relative(ROOT, file)}: ${lang} block: ${(error as Error).message.split('\n')[0]}`);
        }
      }
    }
    assert.deepEqual(failing, []);
  });
});

describe('examples/policies', () => {
  test('each worked example in docs/guides/policy.md is the file a test runs, word for word', () => {
    const guide = blocksOf(read(join(ROOT, 'docs/guides/policy.md'))).blocks.filter(({ lang }) => lang === 'toml');
    const files = filesUnder(join(ROOT, 'examples/policies'), '.toml');
    assert.ok(files.length >= 3);
    for (const file of files) {
      assert.ok(
        guide.some(({ body }) => body === read(file)),
        `${relative(ROOT, file)} is not a toml block of docs/guides/policy.md`,
      );
    }
  });
});

describe('log events', () => {
  test('the table in src/observe/events.ts holds exactly the events the source logs', () => {
    const emitted = new Set(
      filesUnder(join(ROOT, 'src'), '.ts').flatMap((file) =>
        // A logger called by name (`log(`, `tierLog(`, `loud(`) or as an expression (`(… ?? consoleLogger)(`).
        [...read(file).matchAll(/(?:\b\w*(?:log|Log|loud)|\))\(\s*'([a-z][a-z_]*)',\s*\{/g)].map(
          (match) => match[1] as string,
        ),
      ),
    );
    assert.deepEqual([...emitted].sort(), Object.keys(LOG_EVENTS).sort());
  });
});
