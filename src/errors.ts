/**
 * Every way a request can fail, each with a stable `code` that maps to exactly one HTTP
 * response. The table is the public contract: tests and callers branch on `code`.
 */

/** RFC 6750 §3.1 errors, and RFC 9449 §7.1's for DPoP proofs. */
type OAuthError = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce';

/**
 * The pipeline's stages, in the order a request goes through them. A refusal's stage is where it
 * is decided (the earliest, for a code that more than one stage can raise): `explain` reports the
 * stages before it as passed and none after.
 */
export const STAGES = [
  'config',
  'route',
  'credentials',
  'token',
  'issuer',
  'keys',
  'signature',
  'claims',
  'binding',
  'authorization',
  'origin',
] as const;
export type Stage = (typeof STAGES)[number];

interface ErrorSpec {
  readonly status: number;
  /** RFC 6750 §3.1 error; absent for "no credentials" (§3.1: no error code then). */
  readonly oauthError?: OAuthError;
  /** Whether the response carries a Bearer challenge. */
  readonly challenge: boolean;
  /** Fixed text: never built from client input, only RFC 6750 NQSCHAR characters. */
  readonly description: string;
  /** Where in the pipeline it is decided. */
  readonly stage: Stage;
  /** When it happens, for the reference (docs/reference/responses.md). */
  readonly when: string;
}

/** Every refusal code with its status, challenge, fixed description, pipeline stage and when it happens. */
export const ERROR_SPECS = {
  missing_token: {
    status: 401,
    challenge: true,
    description: 'authentication required',
    stage: 'credentials',
    when: 'no token where the route reads one (no Authorization header, by default)',
  },
  unsupported_scheme: {
    status: 401,
    challenge: true,
    description: 'Bearer authentication required',
    stage: 'credentials',
    when: 'another scheme (Basic …), or the DPoP scheme on a route whose issuers have dpop off',
  },
  malformed_authorization: {
    status: 400,
    oauthError: 'invalid_request',
    challenge: true,
    description: 'malformed Authorization header',
    stage: 'credentials',
    when: 'Bearer without a token, bad b64token characters, two Authorization values, a token also in ?access_token',
  },
  multiple_tokens: {
    status: 400,
    oauthError: 'invalid_request',
    challenge: true,
    description: 'token sent in more than one way',
    stage: 'credentials',
    when: 'different tokens in two token sources, or one source twice',
  },
  token_too_large: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token too large',
    stage: 'token',
    when: 'a token over the size limit',
  },
  malformed_token: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'malformed token',
    stage: 'token',
    when: 'not a JWS compact JWT: not three canonical base64url segments, header or payload not a strict UTF-8 JSON object, duplicate member names, nesting too deep, a b64 or unknown crit header',
  },
  alg_not_allowed: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'signing algorithm not allowed',
    stage: 'token',
    when: 'alg not allowed (none included, and HS* unless the issuer has hmac_secret and lists it)',
  },
  unknown_kid: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'signing key not found',
    stage: 'keys',
    when: "no key for the token's kid and alg, even after a refresh",
  },
  bad_signature: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'signature verification failed',
    stage: 'signature',
    when: 'the signature does not verify',
  },
  token_expired: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token expired',
    stage: 'claims',
    when: 'exp in the past (beyond the clock skew)',
  },
  token_not_yet_valid: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token not yet valid',
    stage: 'claims',
    when: 'nbf or iat in the future (beyond the clock skew)',
  },
  wrong_issuer: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'issuer mismatch',
    stage: 'issuer',
    when: "iss absent or not one of the route's issuers, or a tenant not listed; decided before any key is fetched. Also: the tenant claim differs from the tenant its iss names, or a key that names its issuer does not name this one",
  },
  wrong_audience: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'audience mismatch',
    stage: 'claims',
    when: 'aud not one of the audiences; or no aud and no listed client_id',
  },
  invalid_claims: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'invalid claims',
    stage: 'claims',
    when: 'exp missing, a time claim not a finite number, a required claim missing, a cnf that is not an object',
  },
  wrong_token_type: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token type not accepted',
    stage: 'claims',
    when: "typ absent or not one of the issuer's token_types",
  },
  token_inactive: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token is not active',
    stage: 'signature',
    when: 'an opaque token whose introspection answer is active: false (revoked, expired at the server, unknown), or whose endpoint answered 400',
  },
  encrypted_token_not_accepted: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'encrypted tokens not accepted',
    stage: 'token',
    when: 'an encrypted token (five segments) and no route issuer has decryption_keys',
  },
  encryption_not_allowed: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'encryption algorithm not allowed',
    stage: 'token',
    when: 'an encrypted token whose alg or enc is not allowed, or with zip, crit, or a cty other than JWT; refused before any key is touched',
  },
  decryption_failed: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token could not be decrypted',
    stage: 'token',
    when: 'an encrypted token no decryption key opens (another key, an unknown kid, a tampered ciphertext)',
  },
  invalid_dpop_proof: {
    status: 401,
    oauthError: 'invalid_dpop_proof',
    challenge: true,
    description: 'DPoP proof invalid',
    stage: 'binding',
    when: 'a DPoP proof that is missing, doubled, malformed, of another typ, alg, method or URL, outside its iat window, with a private or unfit jwk, a bad signature, the ath of another token, or replayed',
  },
  use_dpop_nonce: {
    status: 401,
    oauthError: 'use_dpop_nonce',
    challenge: true,
    description: 'DPoP nonce required',
    stage: 'binding',
    when: 'with DPOP_NONCE_SECRET set: a proof without a current server nonce (the response carries DPoP-Nonce)',
  },
  dpop_key_mismatch: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token is not bound to the DPoP proof key',
    stage: 'binding',
    when: "a DPoP proof of a key other than the token's cnf.jkt, or for a token that is not DPoP-bound",
  },
  dpop_bound_token: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token is bound to a DPoP key and needs its proof',
    stage: 'binding',
    when: 'a DPoP-bound token (cnf.jkt) sent as Bearer (RFC 9449 §7.1)',
  },
  dpop_required: {
    status: 401,
    challenge: true,
    description: 'DPoP authentication required',
    stage: 'credentials',
    when: 'a Bearer token where dpop is required',
  },
  certificate_mismatch: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token is bound to a client certificate this connection did not present',
    stage: 'binding',
    when: 'a certificate-bound token (cnf x5t#S256) over a connection without a client certificate Cloudflare verified, with a revoked one, or with another one',
  },
  unsupported_binding: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token is bound to a key this API does not check',
    stage: 'binding',
    when: 'a token bound in a way this verifier does not check: cnf jwk, kid, jku, jwe',
  },
  insufficient_scope: {
    status: 403,
    oauthError: 'insufficient_scope',
    challenge: true,
    description: 'insufficient scope',
    stage: 'authorization',
    when: 'a scope the route requires is missing',
  },
  claim_mismatch: {
    status: 403,
    oauthError: 'insufficient_scope',
    challenge: true,
    description: 'claim requirement not met',
    stage: 'authorization',
    when: 'a claim rule of the route is not met',
  },
  rate_limited: {
    status: 429,
    challenge: false,
    description: 'too many requests',
    stage: 'authorization',
    when: "over the route's rate_limit for its key (Retry-After: the limit's period_seconds); counted after authorization",
  },
  cross_site_cookie: {
    status: 403,
    challenge: false,
    description: 'a cookie token is not accepted on a cross-site request that changes state',
    stage: 'credentials',
    when: 'a token only a cookie carried, on a state-changing cross-site request (Sec-Fetch-Site: cross-site)',
  },
  no_route: {
    status: 404,
    challenge: false,
    description: 'no route',
    stage: 'route',
    when: "no route matches the method and path (POLICY only), including a path holding %2F or %5C, or a ';' where the route does not keep path parameters",
  },
  malformed_path: {
    status: 400,
    challenge: false,
    description: 'malformed request path',
    stage: 'route',
    when: "a path an origin could read two ways: a control character (raw or encoded), a broken percent-encoding, a segment beginning or ending with a space or ending with '.'",
  },
  invalid_override: {
    status: 400,
    challenge: false,
    description: 'method or URL override headers invalid or in conflict',
    stage: 'route',
    when: 'with forward_override_headers: override headers that disagree, a method that is not a token, a URL that is not a path',
  },
  method_not_allowed: {
    status: 405,
    challenge: false,
    description: 'method not allowed',
    stage: 'route',
    when: 'a method other than GET or HEAD on a path the Worker answers itself (the resource metadata, the identity assertion JWKS)',
  },
  config_invalid: {
    status: 500,
    challenge: false,
    description: 'verifier misconfigured',
    stage: 'config',
    when: 'a misconfigured Worker: every request until it is fixed; or a missing, short or unusable secret (the identity assertion keys: not private, RSA, no kid), or a missing service or Rate Limiting binding, found when a request needs it',
  },
  internal_error: {
    status: 500,
    challenge: false,
    description: 'internal error',
    stage: 'config',
    when: 'an unexpected failure (a bug): no stage is reported as passed',
  },
  jwks_unavailable: {
    status: 503,
    challenge: false,
    description: 'signing keys unavailable',
    stage: 'keys',
    when: 'no usable key set: the issuer unreachable and nothing cached that may still be used',
  },
  introspection_unavailable: {
    status: 503,
    challenge: false,
    description: 'token introspection unavailable',
    stage: 'keys',
    when: 'the introspection endpoint down, slow, non-JSON, 429 or 5xx, or too many calls in flight',
  },
  introspection_unauthorized: {
    status: 500,
    challenge: false,
    description: 'token introspection refused our credentials',
    stage: 'keys',
    when: 'the introspection endpoint refused our client credentials (401/403)',
  },
  origin_unreachable: {
    status: 502,
    challenge: false,
    description: 'origin unreachable',
    stage: 'origin',
    when: 'the origin could not be reached',
  },
  origin_timeout: {
    status: 504,
    challenge: false,
    description: 'origin did not answer in time',
    stage: 'origin',
    when: 'no response headers from the origin within ORIGIN_TIMEOUT_SECONDS (the origin request is aborted; a body already streaming is never cut)',
  },
  upload_aborted: {
    status: 400,
    challenge: false,
    description: 'request body incomplete',
    stage: 'origin',
    when: "the client's upload failed mid-body (the origin request is aborted, so the origin never takes a shorter body for a whole one)",
  },
} as const satisfies Record<string, ErrorSpec>;

/** A refusal's stable code, as the problem body's `code` and the decision line's `outcome` carry it. */
export type ErrorCode = keyof typeof ERROR_SPECS;

/** What a refusal on a route that accepts DPoP tells the client (RFC 9449 §7.1). */
export interface DpopChallenge {
  /** The `algs` parameter: the proof algorithms accepted. */
  readonly algs: readonly string[];
  /** Whether Bearer is accepted too (a Bearer challenge comes first). */
  readonly bearer: boolean;
  /** The scheme the refused request used: its challenge carries the error. */
  readonly scheme: 'bearer' | 'dpop' | undefined;
}

/** A refusal: its `code` decides the response (`ERROR_SPECS`), at the one refusal boundary. */
export class VerifierError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  /** `detail` is for logs and problem bodies only when it comes from our own config, never from the token. */
  readonly detail: string | undefined;
  /** With `use_dpop_nonce`: the nonce to send in `DPoP-Nonce` (RFC 9449 §9). */
  dpopNonce?: string;

  constructor(code: ErrorCode, detail?: string, options?: ErrorOptions) {
    super(detail ? `${ERROR_SPECS[code].description}: ${detail}` : ERROR_SPECS[code].description, options);
    this.name = 'VerifierError';
    this.detail = detail;
    this.code = code;
    this.status = ERROR_SPECS[code].status;
  }
}

/**
 * A configuration problem: names the variable so the operator can fix it, or, inside POLICY,
 * the path to the value (`POLICY.routes[2].scopes.any[0]: …`).
 */
export class ConfigError extends VerifierError {
  /** The variable, or the path into POLICY, that is wrong. */
  readonly variable: string;
  /** What is wrong with it, without its name. */
  readonly problem: string;

  constructor(variable: string, problem: string) {
    super('config_invalid', variable.startsWith('POLICY.') ? `${variable}: ${problem}` : `${variable} ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
    this.problem = problem;
  }
}

/** 429 `rate_limited`; `Retry-After` is the limit's period (RFC 6585 §4), known from the route when it is thrown. */
export class RateLimitedError extends VerifierError {
  /** Seconds until the binding's window has certainly moved on. */
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super('rate_limited');
    this.name = 'RateLimitedError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** 403 `insufficient_scope`; the challenge names the scopes the route needs (RFC 6750 §3). */
export class InsufficientScopeError extends VerifierError {
  /** The scopes the route needs, as the challenge names them. */
  readonly requiredScope: string;

  constructor(requiredScope: string) {
    super('insufficient_scope');
    this.name = 'InsufficientScopeError';
    this.requiredScope = requiredScope;
  }
}
