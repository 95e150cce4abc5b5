/**
 * Every way a request can fail, each with a stable `code` that maps to exactly one HTTP
 * response. The table is the public contract: tests and callers branch on `code`.
 */

/** RFC 6750 §3.1 errors, and RFC 9449 §7.1's for DPoP proofs. */
type OAuthError = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce';

interface ErrorSpec {
  readonly status: number;
  /** RFC 6750 §3.1 error; absent for "no credentials" (§3.1: no error code then). */
  readonly oauthError?: OAuthError;
  /** Whether the response carries a Bearer challenge. */
  readonly challenge: boolean;
  /** Fixed text: never built from client input, only RFC 6750 NQSCHAR characters. */
  readonly description: string;
}

export const ERROR_SPECS = {
  missing_token: { status: 401, challenge: true, description: 'authentication required' },
  unsupported_scheme: { status: 401, challenge: true, description: 'Bearer authentication required' },
  malformed_authorization: {
    status: 400,
    oauthError: 'invalid_request',
    challenge: true,
    description: 'malformed Authorization header',
  },
  multiple_tokens: {
    status: 400,
    oauthError: 'invalid_request',
    challenge: true,
    description: 'token sent in more than one way',
  },
  token_too_large: { status: 401, oauthError: 'invalid_token', challenge: true, description: 'token too large' },
  malformed_token: { status: 401, oauthError: 'invalid_token', challenge: true, description: 'malformed token' },
  alg_not_allowed: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'signing algorithm not allowed',
  },
  unknown_kid: { status: 401, oauthError: 'invalid_token', challenge: true, description: 'signing key not found' },
  bad_signature: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'signature verification failed',
  },
  token_expired: { status: 401, oauthError: 'invalid_token', challenge: true, description: 'token expired' },
  token_not_yet_valid: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token not yet valid',
  },
  wrong_issuer: { status: 401, oauthError: 'invalid_token', challenge: true, description: 'issuer mismatch' },
  wrong_audience: { status: 401, oauthError: 'invalid_token', challenge: true, description: 'audience mismatch' },
  invalid_claims: { status: 401, oauthError: 'invalid_token', challenge: true, description: 'invalid claims' },
  wrong_token_type: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token type not accepted',
  },
  token_inactive: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token is not active',
  },
  encrypted_token_not_accepted: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'encrypted tokens not accepted',
  },
  encryption_not_allowed: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'encryption algorithm not allowed',
  },
  decryption_failed: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token could not be decrypted',
  },
  invalid_dpop_proof: {
    status: 401,
    oauthError: 'invalid_dpop_proof',
    challenge: true,
    description: 'DPoP proof invalid',
  },
  use_dpop_nonce: { status: 401, oauthError: 'use_dpop_nonce', challenge: true, description: 'DPoP nonce required' },
  dpop_key_mismatch: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token is not bound to the DPoP proof key',
  },
  dpop_bound_token: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token is bound to a DPoP key and needs its proof',
  },
  dpop_required: { status: 401, challenge: true, description: 'DPoP authentication required' },
  certificate_mismatch: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token is bound to a client certificate this connection did not present',
  },
  unsupported_binding: {
    status: 401,
    oauthError: 'invalid_token',
    challenge: true,
    description: 'token is bound to a key this API does not check',
  },
  insufficient_scope: {
    status: 403,
    oauthError: 'insufficient_scope',
    challenge: true,
    description: 'insufficient scope',
  },
  claim_mismatch: {
    status: 403,
    oauthError: 'insufficient_scope',
    challenge: true,
    description: 'claim requirement not met',
  },
  cross_site_cookie: {
    status: 403,
    challenge: false,
    description: 'a cookie token is not accepted on a cross-site request that changes state',
  },
  no_route: { status: 404, challenge: false, description: 'no route' },
  malformed_path: { status: 400, challenge: false, description: 'malformed request path' },
  invalid_override: {
    status: 400,
    challenge: false,
    description: 'method or URL override headers invalid or in conflict',
  },
  method_not_allowed: { status: 405, challenge: false, description: 'method not allowed' },
  config_invalid: { status: 500, challenge: false, description: 'verifier misconfigured' },
  internal_error: { status: 500, challenge: false, description: 'internal error' },
  jwks_unavailable: { status: 503, challenge: false, description: 'signing keys unavailable' },
  introspection_unavailable: { status: 503, challenge: false, description: 'token introspection unavailable' },
  introspection_unauthorized: {
    status: 500,
    challenge: false,
    description: 'token introspection refused our credentials',
  },
  origin_unreachable: { status: 502, challenge: false, description: 'origin unreachable' },
  origin_timeout: { status: 504, challenge: false, description: 'origin did not answer in time' },
  upload_aborted: { status: 400, challenge: false, description: 'request body incomplete' },
} as const satisfies Record<string, ErrorSpec>;

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
