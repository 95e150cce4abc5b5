/**
 * The Worker's bindings. Every variable is a string from `wrangler.toml` `[vars]` or a secret;
 * `src/config.ts` turns them into a typed, validated `Config`.
 */
export interface Env {
  /** KV namespace holding each JWKS (and discovery result) for every data centre. */
  JWKS_CACHE?: KVNamespace;
  /** Required. The exact expected `iss`. */
  ISSUER?: string;
  /** Required. Comma-separated accepted audiences; the token's `aud` must contain one. */
  AUDIENCE?: string;
  /** Optional. The JWKS URL; discovered from the issuer's metadata when absent. */
  JWKS_URI?: string;
  /** Required. Base URL of the protected origin; the request path and query are appended. */
  ORIGIN?: string;
  /** Optional. Comma-separated accepted `alg` values. Default: RS/PS/ES 256-384(-512), EdDSA. */
  ALGORITHMS?: string;
  /** Optional. Space-separated scopes every token must hold. Default: none. */
  REQUIRED_SCOPES?: string;
  /** Optional. Tolerated clock skew in seconds. Default 60. */
  CLOCK_SKEW_SECONDS?: string;
  /** Optional. JWKS freshness in seconds (60 to 86400). Default 600. */
  JWKS_CACHE_TTL_SECONDS?: string;
  /** Optional. Least seconds between unknown-`kid` refetches. Default 30. */
  JWKS_REFRESH_COOLDOWN_SECONDS?: string;
  /** Optional. Comma-separated paths that bypass verification: `/exact` or `/prefix/*`. */
  PUBLIC_PATHS?: string;
  /** Optional. Realm in the `WWW-Authenticate` challenge. Default `api`. */
  REALM?: string;
}
