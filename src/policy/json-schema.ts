import { toJsonSchema } from '@valibot/to-json-schema';
import { policySchema } from './schema.ts';

/** POLICY as a JSON Schema document, for editors and CI linters of wrangler configs. Build-time only. */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'edge-verifier POLICY',
    ...toJsonSchema(policySchema, { target: 'draft-2020-12' }),
  };
}
