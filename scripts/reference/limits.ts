/** docs/reference/limits.md: every default and limit, from the constants themselves (src/constants.ts). */
import * as constants from '../../src/constants.ts';
import { exportedDeclarations, readSource } from './jsdoc.ts';
import { code, page, table } from './markdown.ts';

function shown(value: unknown): string {
  if (typeof value === 'number') return value.toLocaleString('en-US');
  if (typeof value === 'string') return JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

export function limitsPage(): string {
  const values = constants as Record<string, unknown>;
  const rows = exportedDeclarations(readSource(new URL('../../src/constants.ts', import.meta.url)))
    .filter(({ name, kind }) => kind === 'const' && typeof values[name] !== 'function')
    .map(({ name, doc }) => [code(name), code(shown(values[name])), doc]);
  return page('Limits and defaults', '`src/constants.ts`', [
    'Every default and limit the Worker applies, with its unit in its name (`_MS`, `_SECONDS`, `_BYTES`). A policy option that overrides one says so in the [POLICY reference](policy.md).',
    table(['constant', 'value', 'what it bounds'], rows),
  ]);
}
