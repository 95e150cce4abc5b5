import type { IssuerPattern } from '../issuers/issuer-pattern.ts';
import type { PathPattern } from '../routing/path-pattern.ts';
import type { ClaimPath } from '../shared/claim-path.ts';

export type { ClaimPath } from '../shared/claim-path.ts';

/** The validated configuration, whichever variables it came from: what the verifier and the proxy are built from. */

export interface IssuerConfig {
  /** The issuer's id in POLICY (`default` for the flat variables); `c.var.auth.issuerId` names it. */
  readonly id: string;
  /** The first accepted `iss`: the one discovery reads metadata for when `jwksUri` is absent. */
  readonly issuer: string;
  /** Every accepted `iss`: exact values (aliases never fetched) or `{tenantid}` templates. */
  readonly accepted: readonly IssuerPattern[];
  /** With a template: the tenant ids accepted, or `any`; `undefined` without one. */
  readonly tenants: readonly string[] | 'any' | undefined;
  /** The claim that must name the tenant a template took (`tid`). */
  readonly tenantClaim: ClaimPath;
  /** A token with an `aud` must hold at least one of these. */
  readonly audiences: readonly string[];
  /** A token without `aud` is accepted when its `client_id` (else its `azp`) is one of these. */
  readonly clientIds: readonly string[];
  /** JWKS URL; `undefined` means discover it from the issuer's metadata. */
  readonly jwksUri: string | undefined;
  /** Accepted `alg` values (`issuers.<id>.algorithms`; default `DEFAULT_ALGORITHMS`). */
  readonly algorithms: readonly string[];
  /** Tolerance for `exp`, `nbf` and `iat` (default `DEFAULT_CLOCK_SKEW_SECONDS`). */
  readonly clockSkewSeconds: number;
  /** How long a fetched JWKS is fresh (default `DEFAULT_JWKS_CACHE_TTL_SECONDS`). */
  readonly jwksCacheTtlSeconds: number;
  /** Least time between issuer fetches for unknown kids without the coordinator (default `DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS`). */
  readonly jwksRefreshCooldownSeconds: number;
  /** Accepted `typ` values, lower-case without `application/` (RFC 9068 §4); `undefined`: not checked. */
  readonly tokenTypes: readonly string[] | undefined;
  /** Claim paths every token must carry. */
  readonly requiredClaims: readonly ClaimPath[];
  /** The claims that grant scopes, each a space-delimited string or an array of strings. */
  readonly scopeClaims: readonly ClaimPath[];
  /**
   * Name of the Worker secret holding a JWKS of private keys that decrypt this issuer's encrypted
   * tokens (a JWE around a JWS); `undefined`: encrypted tokens are refused.
   */
  readonly decryptionKeys: string | undefined;
  /**
   * Name of the Worker secret whose UTF-8 bytes verify this issuer's HS* tokens (its `algorithms`
   * list them); `undefined`: no HMAC, as for every JWKS-only issuer.
   */
  readonly hmacSecret: string | undefined;
  /** RFC 7662 introspection of this issuer's opaque tokens (or of every token); `undefined`: none. */
  readonly introspection: IntrospectionConfig | undefined;
  /** DPoP (RFC 9449) for this issuer's tokens; a route may override it. */
  readonly dpop: DpopMode;
}

/** How an issuer's tokens are introspected (RFC 7662). */
export interface IntrospectionConfig {
  /** The endpoint; `undefined`: `introspection_endpoint` from the issuer's metadata. */
  readonly endpoint: string | undefined;
  readonly clientId: string;
  /** Name of the Worker secret holding the client secret (client_secret_basic). */
  readonly clientSecret: string;
  /** `opaque`: tokens that are not JWS/JWE; `all`: JWTs too, after their own checks (revocation). */
  readonly tokens: 'opaque' | 'all';
  /** How long an active answer may be reused, never past the token's `exp`; 0: never. */
  readonly cacheSeconds: number;
}

/** `off`: Bearer only; `allowed`: Bearer or DPoP; `required`: DPoP only. */
export type DpopMode = 'off' | 'allowed' | 'required';

export type Access = 'public' | 'optional' | 'required';

/** A JSON value a claim rule compares with. */
export type ClaimValue = string | number | boolean;

export type ClaimRule =
  | { readonly claim: ClaimPath; readonly equals: ClaimValue }
  | { readonly claim: ClaimPath; readonly oneOf: readonly ClaimValue[] }
  | { readonly claim: ClaimPath; readonly contains: ClaimValue };

/**
 * Where a request's token may be: `Authorization: Bearer|DPoP` (RFC 6750 §2.1), the whole value
 * of a header, a cookie, or a query parameter (RFC 6750 §2.3). Header names are lower-case.
 */
export type TokenSourceConfig =
  | { readonly kind: 'authorization' }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'cookie'; readonly name: string }
  | { readonly kind: 'query'; readonly name: string };

/** `refuse`: a path segment holding `;` is refused (404); `keep`: the origin reads `;` as data, matched literally. */
export type PathParameters = 'refuse' | 'keep';

/** How request paths are normalised and matched (docs/guides/policy.md, "Paths the origin receives"). */
export interface PathRules {
  /** Merge `//` into `/` before matching and forwarding. */
  readonly mergeSlashes: boolean;
  /** `false`: route patterns match whatever the case (the origin still receives the path as sent). */
  readonly caseSensitive: boolean;
  /** For every route that does not say otherwise. */
  readonly pathParameters: PathParameters;
}

/** One route: the requests it matches (methods, path) and what it requires of them. */
export interface RouteConfig {
  /** `any`: the flat variables' catch-all, which also matches paths no pattern may match. */
  readonly path: PathPattern | 'any';
  /** Upper-case methods; `undefined`: every method. */
  readonly methods: readonly string[] | undefined;
  /** `public` (no token checked), `optional` (a token is verified when sent) or `required`. */
  readonly access: Access;
  /** The issuers whose tokens this route accepts (direct references into `Config.issuers`). */
  readonly issuers: readonly IssuerConfig[];
  /** Scopes the token must grant: every one of `all`, and one of `any` when it is not empty. */
  readonly scopes: { readonly all: readonly string[]; readonly any: readonly string[] };
  /** Claim rules the token must meet, every one (403 `claim_mismatch` otherwise). */
  readonly claims: readonly ClaimRule[];
  /** This route's origin base URL; `undefined` for both this and `originService`: the config's. */
  readonly origin: string | undefined;
  /** Name of the Worker service binding this route forwards through instead; at most one of the two is set. */
  readonly originService: string | undefined;
  /** Milliseconds to wait for this route's origin's response headers; `undefined`: the config's. */
  readonly originTimeoutMs: number | undefined;
  /** DPoP on this route, over each issuer's own; `undefined`: the issuer's. */
  readonly dpop: DpopMode | undefined;
  /** Path parameters (`;`) on this route; `undefined`: the config's `paths.pathParameters`. */
  readonly pathParameters: PathParameters | undefined;
  /** Where this route reads its token, in order; `undefined`: the config's `tokenSources`. */
  readonly tokenSources: readonly TokenSourceConfig[] | undefined;
  /**
   * The identity assertion this route's verified requests carry: its own, else the config's;
   * `undefined` on a public route, with `identity_assertion = false`, or when the policy has none.
   */
  readonly identityAssertion: IdentityAssertionConfig | undefined;
  /** The per-caller rate limit checked after authorization; `undefined`: none. */
  readonly rateLimit: RateLimitConfig | undefined;
}

/** A JWT the gateway signs for the origin, carrying the verified identity (`identity_assertion`). */
export interface IdentityAssertionConfig {
  /** Name of the Worker secret holding a JWK Set of private EC P-256 or Ed25519 keys; the first signs. */
  readonly signingKey: string;
  /** The assertion's `iss`. */
  readonly issuer: string;
  /** Lower-case name of the request header it is sent in (default `DEFAULT_IDENTITY_ASSERTION_HEADER`). */
  readonly header: string;
  /** Seconds from `iat` to `exp` (default `DEFAULT_IDENTITY_ASSERTION_LIFETIME_SECONDS`). */
  readonly lifetimeSeconds: number;
  /** Top-level claims copied from the verified token (default `DEFAULT_IDENTITY_ASSERTION_CLAIMS`). */
  readonly claims: readonly string[];
}

/** What a route's requests are counted by: a claim of the verified token, or the client's address. */
export type RateLimitKey =
  | { readonly kind: 'claim'; readonly claim: ClaimPath }
  | { readonly kind: 'client_id' }
  | { readonly kind: 'client_ip' };

/** A per-caller rate limit counted by a Workers Rate Limiting binding (`rate_limit`). */
export interface RateLimitConfig {
  /** Name of the Rate Limiting binding, found in the env per request. */
  readonly binding: string;
  /** The binding's period, sent as `Retry-After` on a refusal. */
  readonly periodSeconds: number;
  readonly key: RateLimitKey;
}

export interface HeaderMapping {
  /** Lower-case header name. */
  readonly name: string;
  /** Claim path (dotted, a top-level claim whose name holds dots winning; or an array of segments). */
  readonly claim: ClaimPath;
  /** `text`: strings as is, anything else as JSON; `csv`: an array's items joined by `,`; `json`: always JSON. */
  readonly format: 'text' | 'csv' | 'json';
}

export interface ResourceConfig {
  /** The resource identifier (RFC 9728 §1.2). */
  readonly resource: string;
  /** Where the metadata is served (RFC 9728 §3.1), on whatever host the Worker answers. */
  readonly metadataPath: string;
  /** The absolute metadata URL named in every challenge (`resource_metadata`). */
  readonly metadataUrl: string;
  readonly authorizationServers: readonly string[];
  readonly scopesSupported: readonly string[] | undefined;
}

/** The validated configuration `parseConfig` returns and the verifier runs: the policy, compiled. */
export interface Config {
  /** Every issuer the policy trusts, by id; a route names the ones it accepts. */
  readonly issuers: readonly IssuerConfig[];
  /** First match wins; a request no route matches is refused with 404 `no_route`. */
  readonly routes: readonly RouteConfig[];
  /**
   * Base URL of the origin, without a trailing slash. The gateway requires it or `originService`
   * (or one of the two on every route); at most one of the two is set.
   */
  readonly origin: string | undefined;
  /**
   * Name of the Worker service binding the origin is reached through, found in the env per request.
   * The flat variables set `ORIGIN_SERVICE` when ORIGIN is absent.
   */
  readonly originService: string | undefined;
  /** Milliseconds to wait for the origin's response headers before answering 504 `origin_timeout`. */
  readonly originTimeoutMs: number;
  /** The `realm` of every challenge (default `DEFAULT_REALM`). */
  readonly realm: string;
  /** Verified claims sent to the origin as request headers. */
  readonly headers: readonly HeaderMapping[];
  /** Name of the Worker secret whose value keys X-Auth-Signature; `undefined`: not signed. */
  readonly signingSecret: string | undefined;
  /**
   * Whether the origin receives the token where the client sent it (`Authorization`, the source
   * header or cookie). A query parameter that is a token source is never forwarded.
   */
  readonly forwardAuthorization: boolean;
  /** Where every route reads its token unless it says otherwise, in order. */
  readonly tokenSources: readonly TokenSourceConfig[];
  /** How request paths are normalised before matching; the origin receives the normalised path. */
  readonly paths: PathRules;
  /**
   * Whether method and URL override headers (`X-HTTP-Method-Override`, `X-Original-URL`, …)
   * reach the origin; when they do, the request is routed by what they say as well.
   */
  readonly forwardOverrideHeaders: boolean;
  /** RFC 9728 protected-resource metadata; `undefined`: not published. */
  readonly resource: ResourceConfig | undefined;
  /** What every identity assertion in the policy shares; `undefined` when the policy names none. */
  readonly identityAssertions: IdentityAssertionsConfig | undefined;
}

/** The policy's identity assertions as a whole: where their keys are published, and their headers. */
export interface IdentityAssertionsConfig {
  /** Where the public keys are served (`identity_assertion.jwks_path`). */
  readonly jwksPath: string;
  /** Every `signing_key` the policy names, in policy order, once each: the JWKS lists each one's keys. */
  readonly signingKeys: readonly string[];
  /** Every assertion header name (lower case): a client's copy is stripped on every route. */
  readonly headers: readonly string[];
}
