/**
 * `npm run token [-- --sub NAME --scope "read write" --expires-in SECONDS]`: mints a token from
 * the running demo's dev issuer and prints it.
 */
import { parseArgs } from 'node:util';
import { mintDemoToken, readDemoState } from './demo.ts';

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    scope: { type: 'string' },
    'expires-in': { type: 'string' },
  },
});
const { issuerUrl } = await readDemoState();
const claims: Record<string, string> = {};
if (values.sub) claims.sub = values.sub;
if (values.scope) claims.scope = values.scope;
if (values['expires-in']) claims.expires_in = values['expires-in'];
console.log(await mintDemoToken(issuerUrl, claims));
