/** docs/reference/variables.md: the Worker's variables, bindings and secrets, from `Env`'s doc comments and `SECRETS` (src/env.ts). */
import { LOG_LEVELS } from '../../src/observe/events.ts';
import { interfaceMembers, readSource } from './jsdoc.ts';
import { code, page, table } from './markdown.ts';
import { policyOptions } from './policy.ts';

/** The settings' defaults (src/observe/settings.ts), loaded at run time for the same reason as src/env.ts below. */
const { DEFAULT_OBSERVABILITY } = (await import(new URL('../../src/observe/settings.ts', import.meta.url).href)) as {
  readonly DEFAULT_OBSERVABILITY: {
    readonly logLevel: string;
    readonly serverTiming: boolean;
    readonly successSample: number;
  };
};

/** src/env.ts, loaded at run time: it is typed for the Workers runtime, which the scripts are not type-checked against. */
const { SECRETS, VARIABLES } = (await import(new URL('../../src/env.ts', import.meta.url).href)) as {
  readonly VARIABLES: readonly string[];
  readonly SECRETS: readonly {
    readonly name?: string;
    readonly namedBy?: readonly string[];
    readonly what: string;
    readonly minLength?: number;
  }[];
};

/**
 * A variable's values and default, where they are written: a variable whose doc names its POLICY
 * option (`POLICY: \`path\``) takes that option's type and description from the schema; the two
 * observability settings take theirs from `LOG_LEVELS` and `DEFAULT_OBSERVABILITY`.
 */
function valuesOf(name: string, doc: string, options: ReturnType<typeof policyOptions>): string {
  if (name === 'LOG_LEVEL')
    return `${LOG_LEVELS.map(code).join(', ')}. Default ${code(DEFAULT_OBSERVABILITY.logLevel)}.`;
  if (name === 'SERVER_TIMING')
    return `\`true\` or \`false\`. Default ${code(String(DEFAULT_OBSERVABILITY.serverTiming))}.`;
  if (name === 'LOG_SUCCESS_SAMPLE') return `0 to 1. Default ${code(String(DEFAULT_OBSERVABILITY.successSample))}.`;
  const path = /POLICY: `([^`]+)`/.exec(doc)?.[1];
  if (path === undefined) return '';
  const option = options.get(path);
  if (!option) throw new Error(`${name} names POLICY option ${path}, which the schema does not have`);
  return `${option.type}. ${option.description}`;
}

export function variablesPage(): string {
  const options = policyOptions();
  const members = interfaceMembers(readSource(new URL('../../src/env.ts', import.meta.url)), 'Env');
  const variables = new Set<string>(VARIABLES);
  const fixedSecrets = new Set(SECRETS.flatMap((secret) => (secret.name === undefined ? [] : [secret.name])));
  const variableRows = members
    .filter((m) => variables.has(m.name))
    .map((m) => [code(m.name), m.doc, valuesOf(m.name, m.doc, options)]);
  const bindingRows = members
    .filter((m) => !variables.has(m.name) && !fixedSecrets.has(m.name))
    .map((m) => [code(m.name), code(m.type), m.doc]);
  const secretRows = SECRETS.map((secret) => [
    secret.name === undefined ? `the name ${(secret.namedBy ?? []).map(code).join(' or ')} gives` : code(secret.name),
    secret.what,
    secret.minLength === undefined ? '' : `${secret.minLength} characters`,
  ]);
  return page(
    'Variables, bindings and secrets',
    "`Env` and `SECRETS` in `src/env.ts` (the interface's own doc comments)",
    [
      '## Variables',
      'Strings in `wrangler.toml` `[vars]` (`POLICY` may also be a TOML table or a JSON object). With `POLICY` set, the flat issuer variables are refused: POLICY replaces them ([POLICY reference](policy.md)).',
      table(
        ['variable', 'what it does', 'values and default (from the POLICY option or the setting it names)'],
        variableRows,
      ),
      '## Bindings',
      table(['binding', 'type', 'what it does'], bindingRows),
      '## Secrets',
      'Set each with `npx wrangler secret put NAME`; `npm run check-config` refuses one written in clear text in the Worker config.',
      table(['secret', 'what it holds', 'at least'], secretRows),
    ],
  );
}
