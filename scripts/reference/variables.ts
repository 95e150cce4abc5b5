/** docs/reference/variables.md: the Worker's variables, bindings and secrets, from `Env`'s doc comments and `SECRETS` (src/env.ts). */
import { interfaceMembers, readSource } from './jsdoc.ts';
import { code, page, table } from './markdown.ts';

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

export function variablesPage(): string {
  const members = interfaceMembers(readSource(new URL('../../src/env.ts', import.meta.url)), 'Env');
  const variables = new Set<string>(VARIABLES);
  const fixedSecrets = new Set(SECRETS.flatMap((secret) => (secret.name === undefined ? [] : [secret.name])));
  const variableRows = members.filter((m) => variables.has(m.name)).map((m) => [code(m.name), m.doc]);
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
      table(['variable', 'what it does'], variableRows),
      '## Bindings',
      table(['binding', 'type', 'what it does'], bindingRows),
      '## Secrets',
      'Set each with `npx wrangler secret put NAME`; `npm run check-config` refuses one written in clear text in the Worker config.',
      table(['secret', 'what it holds', 'at least'], secretRows),
    ],
  );
}
