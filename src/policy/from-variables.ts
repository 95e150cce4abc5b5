import type { Vars } from '../env.ts';
import { ORIGIN_SERVICE_BINDING } from '../env.ts';
import { ConfigError } from '../errors.ts';

type FlatName = Exclude<keyof Vars, 'POLICY' | 'ORIGIN_SERVICE_BOUND'>;

/** The flat variables as a policy, and the variable behind each part of it. */
export interface TranslatedVariables {
  /** Validated by the policy schema like any POLICY: the variables' text is not trusted here. */
  readonly policy: object;
  /**
   * The variable a POLICY path came from (`POLICY.issuers.default.algorithms[0]` → `ALGORITHMS`),
   * so an error found by the one schema and compiler names what the operator wrote.
   */
  variableAt(path: string): string | undefined;
}

/** The flat variables' one issuer, by the id `c.var.auth.issuerId` carries. */
export const FLAT_ISSUER_ID = 'default';

/**
 * The flat variables translated into a POLICY, a pure function: one issuer (`default`), each
 * `PUBLIC_PATHS` entry a public route, then one catch-all route `*` that requires a token with
 * `REQUIRED_SCOPES`. `ORIGIN`, `REALM` and `ORIGIN_TIMEOUT_SECONDS` stay beside it, as they may
 * beside a POLICY. What is checked here is only what a policy cannot say: a variable that is
 * not text, lists, whole numbers, and an issuer with neither audiences nor client ids.
 */
export function policyFromVariables(vars: Vars): TranslatedVariables {
  const sources: (readonly [string, FlatName])[] = [];
  const from = <T>(path: string, name: FlatName, value: T): T => {
    sources.push([path, name]);
    return value;
  };
  const issuerAt = `POLICY.issuers.${FLAT_ISSUER_ID}`;
  const iss = required(vars, 'ISSUER');
  const audiences = list(optional(vars, 'AUDIENCE') ?? '', ',');
  const clientIds = list(optional(vars, 'CLIENT_IDS') ?? '', ',');
  if (audiences.length === 0 && clientIds.length === 0) {
    throw new ConfigError(
      'AUDIENCE',
      optional(vars, 'AUDIENCE') === undefined ? 'is required' : 'must name at least one audience',
    );
  }
  const issuer: Record<string, unknown> = {
    issuer: from(`${issuerAt}.issuer`, 'ISSUER', iss),
    audiences: from(`${issuerAt}.audiences`, 'AUDIENCE', audiences),
    client_ids: from(`${issuerAt}.client_ids`, 'CLIENT_IDS', clientIds),
  };
  const set = (member: string, name: FlatName, value: unknown) => {
    if (value !== undefined) issuer[member] = from(`${issuerAt}.${member}`, name, value);
  };
  set('jwks_uri', 'JWKS_URI', optional(vars, 'JWKS_URI'));
  const tenants = optional(vars, 'TENANTS');
  set('tenants', 'TENANTS', tenants === undefined ? undefined : list(tenants, ','));
  set('tenant_claim', 'TENANT_CLAIM', optional(vars, 'TENANT_CLAIM'));
  const algorithms = optional(vars, 'ALGORITHMS');
  set('algorithms', 'ALGORITHMS', algorithms === undefined ? undefined : list(algorithms, ','));
  set('clock_skew_seconds', 'CLOCK_SKEW_SECONDS', wholeNumber(vars, 'CLOCK_SKEW_SECONDS'));
  set('jwks_cache_ttl_seconds', 'JWKS_CACHE_TTL_SECONDS', wholeNumber(vars, 'JWKS_CACHE_TTL_SECONDS'));
  set(
    'jwks_refresh_cooldown_seconds',
    'JWKS_REFRESH_COOLDOWN_SECONDS',
    wholeNumber(vars, 'JWKS_REFRESH_COOLDOWN_SECONDS'),
  );
  const scopeClaims = optional(vars, 'SCOPE_CLAIMS');
  set('scope_claims', 'SCOPE_CLAIMS', scopeClaims === undefined ? undefined : list(scopeClaims, ','));
  set('decryption_keys', 'DECRYPTION_KEYS', optional(vars, 'DECRYPTION_KEYS'));
  set('hmac_secret', 'HMAC_SECRET', optional(vars, 'HMAC_SECRET'));
  const introspection = introspectionOf(vars, (member, name, value) =>
    from(`${issuerAt}.introspection.${member}`, name, value),
  );
  if (introspection !== undefined) issuer.introspection = introspection;
  set('dpop', 'DPOP', optional(vars, 'DPOP'));

  const publicPaths = list(optional(vars, 'PUBLIC_PATHS') ?? '', ',');
  const routes: Record<string, unknown>[] = publicPaths.map((path, i) =>
    from(`POLICY.routes[${i}]`, 'PUBLIC_PATHS', { path, access: 'public' }),
  );
  const requiredScopes = list(optional(vars, 'REQUIRED_SCOPES') ?? '', ' ');
  routes.push({
    // `*`, not `/*`: the catch-all guards every path alike, encoded separators included.
    path: '*',
    access: 'required',
    ...(requiredScopes.length > 0
      ? { scopes: from(`POLICY.routes[${routes.length}].scopes`, 'REQUIRED_SCOPES', { all: requiredScopes }) }
      : {}),
  });
  const resource = optional(vars, 'RESOURCE');
  const tokenSources = optional(vars, 'TOKEN_SOURCES');
  const assertion = identityAssertionOf(vars, (member, name, value) =>
    from(`POLICY.identity_assertion.${member}`, name, value),
  );
  const policy = {
    issuers: { [FLAT_ISSUER_ID]: issuer },
    routes,
    ...(tokenSources === undefined
      ? {}
      : { token_sources: from('POLICY.token_sources', 'TOKEN_SOURCES', list(tokenSources, ',').map(tokenSource)) }),
    ...(assertion === undefined ? {} : { identity_assertion: assertion }),
    ...(resource === undefined
      ? {}
      : {
          resource: from('POLICY.resource', 'RESOURCE', {
            resource,
            ...(requiredScopes.length > 0 ? { scopes_supported: requiredScopes } : {}),
          }),
        }),
    // Without ORIGIN the origin is a service binding: whether the Worker has it is known per request only.
    ...(optional(vars, 'ORIGIN') === undefined && vars.ORIGIN_SERVICE_BOUND
      ? { origin_service: ORIGIN_SERVICE_BINDING }
      : {}),
  };
  return {
    policy,
    variableAt(path) {
      let best: readonly [string, FlatName] | undefined;
      for (const source of sources) {
        const [prefix] = source;
        const covers = path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
        if (covers && (best === undefined || prefix.length > best[0].length)) best = source;
      }
      return best?.[1];
    },
  };
}

/** The introspection variables as the policy's member; `undefined` when none is set. */
function introspectionOf(
  vars: Vars,
  from: <T>(member: string, name: FlatName, value: T) => T,
): Record<string, unknown> | undefined {
  const names = [
    ['endpoint', 'INTROSPECTION_ENDPOINT'],
    ['client_id', 'INTROSPECTION_CLIENT_ID'],
    ['client_secret', 'INTROSPECTION_CLIENT_SECRET'],
    ['tokens', 'INTROSPECT'],
    ['cache_seconds', 'INTROSPECTION_CACHE_SECONDS'],
  ] as const;
  const members: Record<string, unknown> = {};
  for (const [member, name] of names) {
    const value = name === 'INTROSPECTION_CACHE_SECONDS' ? wholeNumber(vars, name) : optional(vars, name);
    // Each member is named by its variable, set or not: a missing client id names INTROSPECTION_CLIENT_ID.
    from(member, name, value);
    if (value !== undefined) members[member] = value;
  }
  return Object.keys(members).length === 0 ? undefined : members;
}

/** The identity assertion variables as the policy's member; `undefined` when neither is set. */
function identityAssertionOf(
  vars: Vars,
  from: <T>(member: string, name: FlatName, value: T) => T,
): Record<string, unknown> | undefined {
  // Each member is named by its variable, set or not: a missing issuer names IDENTITY_ASSERTION_ISSUER.
  const signingKey = from('signing_key', 'IDENTITY_ASSERTION_KEY', optional(vars, 'IDENTITY_ASSERTION_KEY'));
  const issuer = from('issuer', 'IDENTITY_ASSERTION_ISSUER', optional(vars, 'IDENTITY_ASSERTION_ISSUER'));
  if (signingKey === undefined && issuer === undefined) return undefined;
  return { signing_key: signingKey, issuer };
}

/** `authorization`, `header:<name>`, `cookie:<name>` or `query:<name>` as a policy's source; anything else is left for the schema to name. */
function tokenSource(text: string): unknown {
  if (text === 'authorization') return text;
  const colon = text.indexOf(':');
  const kind = text.slice(0, colon);
  return colon > 0 && (kind === 'header' || kind === 'cookie' || kind === 'query')
    ? { [kind]: text.slice(colon + 1).trim() }
    : text;
}

function optional(vars: Vars, name: FlatName): string | undefined {
  const raw: unknown = vars[name];
  if (raw === undefined) return undefined;
  // A TOML number or boolean reaches the Worker as one: name it rather than fail on it.
  if (typeof raw !== 'string') throw new ConfigError(name, 'must be a string (in quotes)');
  const value = raw.trim();
  return value ? value : undefined;
}

function required(vars: Vars, name: FlatName): string {
  const value = optional(vars, name);
  if (value === undefined) throw new ConfigError(name, 'is required');
  return value;
}

function list(value: string, separator: ',' | ' '): string[] {
  return value
    .split(separator === ' ' ? /\s+/ : ',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** A whole number from a variable's text; its range is the policy schema's. */
function wholeNumber(vars: Vars, name: FlatName): number | undefined {
  const text = optional(vars, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new ConfigError(name, 'must be a whole number of seconds');
  return Number(text);
}
