/** docs/reference/policy.md: every POLICY option, from the schema's own descriptions (src/policy/schema.ts). */
import { policyJsonSchema } from '../../src/policy/json-schema.ts';
import { code, page, table } from './markdown.ts';

type Schema = {
  readonly type?: string;
  readonly anyOf?: readonly Schema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly items?: Schema;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly additionalProperties?: Schema | boolean;
  readonly required?: readonly string[];
  readonly description?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly pattern?: string;
};

/** A short type: `string`, `integer 1–3600`, `"off" \| "allowed"`, `string[]`, `a or b`. */
function typeOf(schema: Schema): string {
  if (schema.anyOf) return [...new Set(schema.anyOf.map(typeOf))].join(' or ');
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.type === 'array') return `${schema.items ? typeOf(schema.items) : 'any'}[]`;
  if (schema.type === 'integer' || schema.type === 'number') {
    const range =
      schema.minimum !== undefined && schema.maximum !== undefined
        ? ` ${schema.minimum}–${schema.maximum}`
        : schema.minimum !== undefined
          ? ` ≥ ${schema.minimum}`
          : '';
    return `${schema.type}${range}`;
  }
  return schema.type ?? 'any';
}

/** Each option under `schema`, depth first, named by its path (`issuers.<id>.audiences`, `routes[].path`). */
function options(schema: Schema, prefix: string, rows: string[][]): void {
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (name === '$schema') continue;
    const path = `${prefix}${name}`;
    const required = schema.required?.includes(name) ? 'yes' : '';
    rows.push([code(path), typeOf(child), required, child.description ?? '']);
    nested(child, path, rows);
  }
}

function nested(schema: Schema, path: string, rows: string[][]): void {
  for (const variant of schema.anyOf ?? [schema]) {
    if (variant.properties) options(variant, `${path}.`, rows);
    if (variant.items?.properties) options(variant.items, `${path}[].`, rows);
    if (typeof variant.additionalProperties === 'object' && variant.additionalProperties.properties) {
      options(variant.additionalProperties, `${path}.<id>.`, rows);
    }
  }
}

/** Every option by its path (`issuers.<id>.clock_skew_seconds`): its type and description, default included. */
export function policyOptions(): ReadonlyMap<string, { readonly type: string; readonly description: string }> {
  const rows: string[][] = [];
  options(policyJsonSchema() as Schema, '', rows);
  return new Map(
    rows.map(([path, type, , description]) => [
      (path as string).slice(1, -1),
      { type: type as string, description: description as string },
    ]),
  );
}

export function policyPage(): string {
  const rows: string[][] = [];
  options(policyJsonSchema() as Schema, '', rows);
  return page(
    'POLICY reference',
    '`src/policy/schema.ts` (the schema that validates POLICY at start-up, also written to `policy.schema.json`)',
    [
      'Every option of `POLICY`, the JSON object (or TOML table) that replaces the flat variables. For how a request is decided with it, see [the policy guide](../guides/policy.md).',
      table(['option', 'type', 'required', 'what it does'], rows),
    ],
  );
}
