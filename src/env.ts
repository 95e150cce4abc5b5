import { IDENTITY_SIGNING_SECRET_MIN_LENGTH } from './constants.ts';

/**
 * The Worker's bindings. Every variable is a string from `wrangler.toml` `[vars]` or a secret,
 * except `POLICY`, which may also be a TOML table or JSON object; `src/config.ts` turns them
 * into a typed, validated `Config`.
 */
export interface Env {
  /** KV namespace holding each JWKS (and discovery result) for every data centre. */
  JWKS_CACHE?: KVNamespace;
  /**
   * Service binding to the origin Worker, used by the flat variables when ORIGIN is absent (a
   * POLICY names its own with `origin_service`). Read per request; without it (and without ORIGIN)
   * a request that would be forwarded answers 500.
   */
  ORIGIN_SERVICE?: Fetcher;
  /** The whole policy (issuers, routes, headers, resource) as a JSON object or a string of JSON. Replaces the flat variables. */
  POLICY?: string | object;
  /**
   * Required without POLICY. The exact expected `iss`: `https://` (plain `http://` only on
   * loopback). It may hold `{tenantid}` once as a path segment or host label (Microsoft Entra
   * multi-tenant), with TENANTS and JWKS_URI. POLICY: `issuers.<id>.issuer`.
   */
  ISSUER?: string;
  /** With `{tenantid}` in ISSUER: comma-separated tenant ids accepted, or `*` for any. */
  TENANTS?: string;
  /** Optional. The claim that must name the tenant `{tenantid}` took. POLICY: `issuers.<id>.tenant_claim`. */
  TENANT_CLAIM?: string;
  /**
   * Comma-separated accepted audiences: a token that has an `aud` (string or array) must contain
   * one, and is judged by AUDIENCE only. Required unless CLIENT_IDS is set. POLICY: `issuers.<id>.audiences`.
   */
  AUDIENCE?: string;
  /**
   * Optional. Comma-separated client ids: a token without `aud` is accepted when its `client_id`
   * (Amazon Cognito), else its `azp` (Keycloak, Clerk), is listed and its `token_use` is absent or
   * `access`. POLICY: `issuers.<id>.client_ids`.
   */
  CLIENT_IDS?: string;
  /**
   * Optional. The JWKS URL (the https rule of ISSUER). Absent: read from the issuer's
   * `/.well-known/openid-configuration`, else RFC 8414 `/.well-known/oauth-authorization-server`,
   * whose `issuer` must equal ISSUER. POLICY: `issuers.<id>.jwks_uri`.
   */
  JWKS_URI?: string;
  /**
   * Base URL of the protected origin; the request's normalised path and query are appended and a
   * base path is kept (`https://o.example/api` + `/x?y` → `https://o.example/api/x?y`). Absent:
   * the ORIGIN_SERVICE binding. Allowed beside POLICY, whose own origin wins. POLICY: `origin`.
   */
  ORIGIN?: string;
  /** Optional. Comma-separated accepted `alg` values. POLICY: `issuers.<id>.algorithms`. */
  ALGORITHMS?: string;
  /** Optional. Space-separated scopes every token must hold (exact, case-sensitive), granted by SCOPE_CLAIMS. Default: none. */
  REQUIRED_SCOPES?: string;
  /**
   * Optional. Comma-separated claim paths that grant scopes (`permissions` for Auth0 RBAC,
   * `scp,roles` for Microsoft Entra, `realm_access.roles` for Keycloak). POLICY: `issuers.<id>.scope_claims`.
   */
  SCOPE_CLAIMS?: string;
  /** Optional. Tolerated clock skew in seconds. POLICY: `issuers.<id>.clock_skew_seconds`. */
  CLOCK_SKEW_SECONDS?: string;
  /** Optional. JWKS freshness in seconds. POLICY: `issuers.<id>.jwks_cache_ttl_seconds`. */
  JWKS_CACHE_TTL_SECONDS?: string;
  /** Optional. Least seconds between unknown-`kid` refetches. POLICY: `issuers.<id>.jwks_refresh_cooldown_seconds`. */
  JWKS_REFRESH_COOLDOWN_SECONDS?: string;
  /**
   * Optional. Comma-separated paths that bypass verification: `/exact` or `/prefix/*` (everything
   * below `/prefix/`), each a public route before the catch-all. Paths are normalised first
   * (`/public/../admin` is `/admin`); one holding `%2F` or `%5C` is never public.
   */
  PUBLIC_PATHS?: string;
  /**
   * Optional. Comma-separated places a token is read, in order: `authorization`, `header:<name>`,
   * `cookie:<name>`, `query:<name>` (Cloudflare Access:
   * `authorization,header:Cf-Access-Jwt-Assertion,cookie:CF_Authorization`). POLICY: `token_sources`.
   */
  TOKEN_SOURCES?: string;
  /**
   * Optional. The name of a Worker secret holding a JWKS of private keys that decrypt encrypted
   * tokens (a JWE around the JWS). Absent: encrypted tokens are refused.
   */
  DECRYPTION_KEYS?: string;
  /**
   * Optional. The name of a Worker secret whose UTF-8 bytes verify HS256/384/512 tokens (Supabase's
   * legacy JWT secret, Hasura); ALGORITHMS must list them. At least 32/48/64 bytes.
   */
  HMAC_SECRET?: string;
  /** Optional. The RFC 7662 introspection endpoint; default: `introspection_endpoint` from the issuer's metadata. */
  INTROSPECTION_ENDPOINT?: string;
  /** With introspection: our client id at the endpoint. Setting it turns introspection on. */
  INTROSPECTION_CLIENT_ID?: string;
  /** With introspection: the name of the Worker secret holding our client secret. */
  INTROSPECTION_CLIENT_SECRET?: string;
  /** Optional. `opaque` (tokens that are not JWS/JWE) or `all` (JWTs too, for revocation). POLICY: `issuers.<id>.introspection.tokens`. */
  INTROSPECT?: string;
  /** Optional. Seconds an active introspection answer may be reused. POLICY: `issuers.<id>.introspection.cache_seconds`. */
  INTROSPECTION_CACHE_SECONDS?: string;
  /** Optional. DPoP (RFC 9449) for the issuer's tokens. POLICY: `issuers.<id>.dpop`. */
  DPOP?: string;
  /**
   * Optional. The name of a Worker secret holding a JWK Set of private signing keys: with
   * IDENTITY_ASSERTION_ISSUER, every verified request carries a JWT the gateway signs for the
   * origin. POLICY: `identity_assertion.signing_key`.
   */
  IDENTITY_ASSERTION_KEY?: string;
  /** With IDENTITY_ASSERTION_KEY: the assertion's `iss`. POLICY: `identity_assertion.issuer`. */
  IDENTITY_ASSERTION_ISSUER?: string;
  /**
   * Optional. This API's resource identifier (RFC 9728), an https URL without query or fragment:
   * publishes its protected-resource metadata, with `authorization_servers` = [ISSUER] and
   * `scopes_supported` = REQUIRED_SCOPES when set. POLICY: `resource.resource`.
   */
  RESOURCE?: string;
  /** Optional. Realm in the `WWW-Authenticate` challenge, under POLICY too (its `realm` wins). POLICY: `realm`. */
  REALM?: string;
  /** Optional. Seconds to wait for the origin's response headers, under POLICY too (its own wins). POLICY: `origin_timeout_seconds`. */
  ORIGIN_TIMEOUT_SECONDS?: string;
  /** Optional. What is logged: each level keeps the events of the ones before it (`LOG_LEVELS`, `DEFAULT_OBSERVABILITY`). */
  LOG_LEVEL?: string;
  /** Optional. `true` adds `Server-Timing: auth;dur=…;desc="<key tier>"` to forwarded responses (`DEFAULT_OBSERVABILITY`). */
  SERVER_TIMING?: string;
  /**
   * Optional. The share of successful requests whose decision line is written at LOG_LEVEL=info,
   * from 0 to 1 (`1`: every one). Refusals and failures are always written, every success at
   * debug (`DEFAULT_OBSERVABILITY`).
   */
  LOG_SUCCESS_SAMPLE?: string;
  /**
   * Optional Durable Object namespace of the exported `JwksCoordinator` class: one object per
   * JWKS URI refreshes it for every data centre (docs/guides/running-at-scale.md). Without it,
   * each data centre's isolates fetch from the issuer themselves.
   */
  JWKS_COORDINATOR?: DurableObjectNamespace;
  /**
   * Optional Durable Object namespace of the exported `DpopReplay` class: the DPoP proofs seen,
   * for every data centre. Without it, each isolate remembers its own (a replay to another
   * isolate goes unseen).
   */
  DPOP_REPLAY?: DurableObjectNamespace;
  /** Optional Workers Analytics Engine dataset: one data point per request decision. */
  AUTH_ANALYTICS?: AnalyticsEngineDataset;
  /**
   * Optional Worker secret (`wrangler secret put`), never a variable: turns on server-provided
   * DPoP nonces (RFC 9449 §8, §9) on every route that accepts DPoP. See `SECRETS`.
   */
  DPOP_NONCE_SECRET?: string;
}

/** The variables that describe one issuer and its rules: POLICY replaces every one of them. */
export const FLAT_VARIABLES = [
  'ISSUER',
  'TENANTS',
  'TENANT_CLAIM',
  'AUDIENCE',
  'CLIENT_IDS',
  'JWKS_URI',
  'ALGORITHMS',
  'REQUIRED_SCOPES',
  'SCOPE_CLAIMS',
  'CLOCK_SKEW_SECONDS',
  'JWKS_CACHE_TTL_SECONDS',
  'JWKS_REFRESH_COOLDOWN_SECONDS',
  'PUBLIC_PATHS',
  'TOKEN_SOURCES',
  'RESOURCE',
  'DECRYPTION_KEYS',
  'HMAC_SECRET',
  'INTROSPECTION_ENDPOINT',
  'INTROSPECTION_CLIENT_ID',
  'INTROSPECTION_CLIENT_SECRET',
  'INTROSPECT',
  'INTROSPECTION_CACHE_SECONDS',
  'DPOP',
  'IDENTITY_ASSERTION_KEY',
  'IDENTITY_ASSERTION_ISSUER',
] as const satisfies readonly (keyof Env)[];

/** The one list of variables the config reads; secrets and other bindings never shape it. */
export const VARIABLES = [
  'POLICY',
  ...FLAT_VARIABLES,
  'ORIGIN',
  'ORIGIN_TIMEOUT_SECONDS',
  'REALM',
  'LOG_LEVEL',
  'SERVER_TIMING',
  'LOG_SUCCESS_SAMPLE',
] as const satisfies readonly (keyof Env)[];

export type VariableName = (typeof VARIABLES)[number];

/**
 * The config's input: the variables, and whether the Worker has an `ORIGIN_SERVICE` service
 * binding (the flat variables forward through it when `ORIGIN` is absent; without either, the
 * gateway refuses to start, as it always has).
 */
export type Vars = Pick<Env, VariableName> & { readonly ORIGIN_SERVICE_BOUND?: boolean };

/** A secret the Worker reads: under its own name, or under the name a variable or policy option gives it. */
export interface SecretSpec {
  /** The secret's own name, for one the Worker reads as is. */
  readonly name?: keyof Env;
  /** The options that name it (its name is then the operator's choice). */
  readonly namedBy?: readonly string[];
  /** What it holds and what it does. */
  readonly what: string;
  /** Its shortest accepted length, in characters (UTF-8 bytes for an HMAC key). */
  readonly minLength?: number;
}

/**
 * Every secret the Worker reads, the one list that `Env`, `npm run check-config` and the reference
 * (docs/reference/variables.md) read. Each is set with `wrangler secret put`: check-config refuses
 * one written in clear text in the Worker's config.
 */
export const SECRETS = [
  {
    name: 'DPOP_NONCE_SECRET',
    what: 'the key of the server DPoP nonces (RFC 9449 §8): set, every route that accepts DPoP requires a current nonce',
    minLength: IDENTITY_SIGNING_SECRET_MIN_LENGTH,
  },
  {
    namedBy: ['POLICY.sign_headers.secret'],
    what: 'the HMAC-SHA256 key of X-Auth-Signature (the signed identity headers)',
    minLength: IDENTITY_SIGNING_SECRET_MIN_LENGTH,
  },
  {
    namedBy: [
      'POLICY.identity_assertion.signing_key',
      'POLICY.routes[].identity_assertion.signing_key',
      'IDENTITY_ASSERTION_KEY',
    ],
    what: 'a JWK Set of private EC P-256 (ES256) or Ed25519 (EdDSA) keys, each with a kid, that sign the identity assertion: the first signs, the others are only published',
  },
  {
    namedBy: ['POLICY.issuers.<id>.hmac_secret', 'HMAC_SECRET'],
    what: 'the key HS256/384/512 tokens are verified with, its UTF-8 bytes at least as many as the hash (32, 48, 64)',
  },
  {
    namedBy: ['POLICY.issuers.<id>.decryption_keys', 'DECRYPTION_KEYS'],
    what: 'a JWK Set of private keys that decrypt encrypted tokens (nested JWE)',
  },
  {
    namedBy: ['POLICY.issuers.<id>.introspection.client_secret', 'INTROSPECTION_CLIENT_SECRET'],
    what: 'our client secret at the RFC 7662 introspection endpoint',
  },
] as const satisfies readonly SecretSpec[];

/** The secrets the Worker reads under their own names. */
export type FixedSecretName = Extract<(typeof SECRETS)[number], { name: string }>['name'];

/** The service binding the flat variables forward through when ORIGIN is absent. */
export const ORIGIN_SERVICE_BINDING = 'ORIGIN_SERVICE' satisfies keyof Env;

/** The Durable Object namespace of the key sources' coordinator. */
export const COORDINATOR_BINDING = 'JWKS_COORDINATOR' satisfies keyof Env;

/** The Durable Object namespace of the network-wide DPoP replay check. */
export const DPOP_REPLAY_BINDING = 'DPOP_REPLAY' satisfies keyof Env;

/** The Durable Object class it binds, exported by the Worker's entry module (`src/index.ts`). */
export const COORDINATOR_CLASS = 'JwksCoordinator';

/** The optional Durable Objects: the binding the Worker looks for, the class it exports for it, and what it is. */
export const DURABLE_OBJECTS = [
  { binding: COORDINATOR_BINDING, className: COORDINATOR_CLASS, role: 'the JWKS coordinator' },
  { binding: DPOP_REPLAY_BINDING, className: 'DpopReplay', role: 'the DPoP replay check' },
] as const satisfies readonly { readonly binding: keyof Env; readonly className: string; readonly role: string }[];

/** The bindings that are not variables: the config never reads them, the gateway finds them in the env per request. */
type BindingName =
  | 'JWKS_CACHE'
  | typeof ORIGIN_SERVICE_BINDING
  | typeof COORDINATOR_BINDING
  | typeof DPOP_REPLAY_BINDING
  | 'AUTH_ANALYTICS';

type NothingLeft<T extends never> = T;
/** Fails to compile when `Env` gains a variable that `VARIABLES` does not list, so none is silently ignored. */
export type EveryVariableListed = NothingLeft<Exclude<keyof Env, VariableName | BindingName | FixedSecretName>>;

/** The variables of an env, as the config reads them. */
export function variablesOf(env: object): Vars {
  const source = env as Record<string, unknown>;
  const vars: Record<string, unknown> = {};
  for (const name of VARIABLES) if (source[name] !== undefined) vars[name] = source[name];
  if (typeof (source[ORIGIN_SERVICE_BINDING] as Partial<Fetcher> | undefined)?.fetch === 'function') {
    vars.ORIGIN_SERVICE_BOUND = true;
  }
  return vars as Vars;
}
