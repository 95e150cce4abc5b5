/**
 * `npm run schema`: writes policy.schema.json from the POLICY schema in src/policy/schema.ts,
 * the one definition behind the start-up validation and the `Policy` type. A test fails when
 * the committed file and the definition disagree.
 */
import { writeFile } from 'node:fs/promises';
import { policyJsonSchema } from '../src/policy/json-schema.ts';

await writeFile(new URL('../policy.schema.json', import.meta.url), `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
console.log('wrote policy.schema.json');
