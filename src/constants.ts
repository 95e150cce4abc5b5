/**
 * Defaults and hard limits. Units are in the names; each limit says why it exists.
 */

/** Default accepted `alg` values: asymmetric only. `none` and HS* can never be configured (RFC 8725 §3.1, §3.2). */
export const DEFAULT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
  'Ed25519',
] as const;

/**
 * RFC 9864 names Ed25519 as a fully-specified `alg` (oauth4webapi signs DPoP proofs with it); our
 * EdDSA is Ed25519 only, so an algorithm list that accepts EdDSA accepts Ed25519 as well.
 */
export const ALGORITHM_ALIASES: Readonly<Record<string, string>> = { EdDSA: 'Ed25519' };

/** Every algorithm the verifier can check against a public key from a JWKS. */
export const SUPPORTED_ALGORITHMS: readonly string[] = [...DEFAULT_ALGORITHMS, 'ES512'];

/**
 * HMAC algorithms (RFC 7518 §3.2), each with its hash and the shortest key it takes (as long as
 * the hash output). Only ever with an issuer's `hmac_secret`, listed explicitly, and checked with
 * that secret alone: a public key is never an HMAC key (RFC 8725 §3.1).
 */
export const HMAC_ALGORITHMS: Readonly<Record<string, { readonly hash: string; readonly minBytes: number }>> = {
  HS256: { hash: 'SHA-256', minBytes: 32 },
  HS384: { hash: 'SHA-384', minBytes: 48 },
  HS512: { hash: 'SHA-512', minBytes: 64 },
};

/**
 * The claims that grant scopes unless an issuer says otherwise: RFC 9068 §2.2.3's `scope` and the
 * `scp` that Okta and Microsoft Entra use, each a space-delimited string or an array of strings.
 */
export const DEFAULT_SCOPE_CLAIMS: readonly string[] = ['scope', 'scp'];

/** The claim that names a multi-tenant token's tenant (Microsoft Entra's `tid`). */
export const DEFAULT_TENANT_CLAIM = 'tid';

/** Tolerated clock difference for `exp`, `nbf` and `iat`. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;

/** How long a fetched JWKS is fresh when the issuer says nothing shorter. */
export const DEFAULT_JWKS_CACHE_TTL_SECONDS = 600;

/**
 * The shortest configurable TTL. The shared tiers keep a record for TTL + JWKS_MAX_STALE_SECONDS,
 * so KV's 60 s minimum expiration never constrains the TTL itself.
 */
export const MIN_JWKS_CACHE_TTL_SECONDS = 1;

/** KV rejects an `expirationTtl` under 60 s. */
export const KV_MIN_EXPIRATION_TTL_SECONDS = 60;

/**
 * An issuer's `Cache-Control: max-age` (or `no-store`) may shorten the TTL, but not below this
 * (nor below the configured TTL): a fresher JWKS only multiplies issuer fetches.
 */
export const MIN_ISSUER_MAX_AGE_SECONDS = 60;

/** A configured TTL above a day would keep a revoked key in use for too long. */
export const MAX_JWKS_CACHE_TTL_SECONDS = 86_400;

/** Least time between two issuer fetches forced by unknown `kid`s, per JWKS URI. */
export const DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS = 30;

/**
 * How long a cached JWKS may still be used after its TTL when the issuer cannot be reached
 * (stale-if-error). After this, requests get 503 rather than keys that may have been revoked.
 */
export const JWKS_MAX_STALE_SECONDS = 86_400;

/**
 * Least time between two reads of the data centre's copy (Cache API) for a missing kid, per
 * isolate and JWKS URI: another isolate may have fetched a newer set, but a flood of made-up
 * kids must not become a Cache API read per request.
 */
export const COLO_READ_INTERVAL_MS = 1_000;

/**
 * An isolate that asked the JWKS coordinator (a Durable Object) and has no answer in this time
 * fetches from the issuer itself: the coordinator's own fetch is bounded by JWKS_FETCH_TIMEOUT_MS,
 * but a busy or unreachable object must not hold a request for longer than a slow issuer would.
 */
export const COORDINATOR_TIMEOUT_MS = 2_000;

/**
 * With the coordinator, a kid nobody has seen may cause an issuer fetch this often for the whole
 * network (a flood of made-up kids: at most 60 fetches a minute), instead of once per cooldown:
 * one fetch anywhere must not keep every data centre from a new key for a whole cooldown.
 */
export const COORDINATOR_MIN_REFETCH_MS = 1_000;

/**
 * A request with an unknown kid whose only obstacle to a fetch is an interval (the coordinator's
 * minimum, an isolate's, a cooldown) that ends within this waits for that one shared fetch
 * instead of being refused: a 401 makes a client throw a valid token away. Made-up kids wait too,
 * never longer than this, and share the fetch.
 */
export const UNKNOWN_KID_WAIT_MAX_MS = 1_500;

/** A coordinator nobody has asked for this long stops refetching on its own (its alarm lapses). */
export const COORDINATOR_IDLE_AFTER_MS = 86_400_000;

/**
 * How long an isolate's note that it is fetching a key source (in its data centre's Cache API)
 * holds the other isolates of the data centre back from fetching the same set. Covers an issuer
 * that answers in well under a second; past it, a waiter fetches itself.
 */
export const COLO_FETCH_LEASE_MS = 1_000;

/** How often an isolate held back by that lease looks for the set in its data centre's copy. */
export const COLO_LEASE_POLL_MS = 50;

/**
 * How long an isolate that wrote the lease waits before reading it back to see whether it won:
 * a sibling that found no lease just before ours landed writes its own within about one Cache
 * API write (a few ms); the last writer wins. Added to every fetch that takes the lease.
 */
export const COLO_LEASE_SETTLE_MS = 10;

/** An issuer that does not answer in this time is treated as down. */
export const JWKS_FETCH_TIMEOUT_MS = 5_000;

/**
 * A request waiting on a refresh started by another request gives up after this and decides
 * with what it has: on Workers a promise owned by another request can hang once that request
 * ends (panva/jose#355, #509).
 */
export const SHARED_REFRESH_WAIT_MS = JWKS_FETCH_TIMEOUT_MS + 500;

/**
 * A Cache API or KV read that has not answered in this time counts as a miss, and the lookup
 * moves on to the next tier or the issuer: a stuck binding must not hold a cold request forever.
 * Reads take about a millisecond (Cache API) to tens of milliseconds (cold KV), so this only
 * cuts off a tier that is failing.
 */
export const TIER_READ_TIMEOUT_MS = 1_000;

/** Real key sets are a few KB; the cap stops a hostile or broken issuer from exhausting memory. */
export const JWKS_MAX_SIZE_BYTES = 512 * 1024;

/** Issuers publish a handful of keys; more than this is treated as an attack or a mistake. */
export const JWKS_MAX_KEYS = 100;

/** Discovery documents are small; same reasoning as the JWKS cap. */
export const DISCOVERY_MAX_SIZE_BYTES = 256 * 1024;

/** NIST SP 800-131A: RSA keys under 2048 bits are no longer acceptable for signatures. */
export const RSA_MIN_MODULUS_BITS = 2048;

/** Verifying with a huge modulus costs CPU on every request; no issuer uses more than this. */
export const RSA_MAX_MODULUS_BITS = 8192;

/**
 * A token without `kid` is tried against each key that fits its `alg`, up to this many (issuers
 * that omit kid publish one key, or a few during a rotation); more is `unknown_kid`, so a forged
 * kid-less token costs at most this many signature checks.
 */
export const MAX_KIDLESS_CANDIDATE_KEYS = 3;

/** How old a DPoP proof's `iat` may be (RFC 9449 §11.1); its `jti` is remembered this long. */
export const DPOP_PROOF_MAX_AGE_SECONDS = 60;

/** How far in the future a DPoP proof's `iat` may be: the client's clock may run a little ahead. */
export const DPOP_PROOF_MAX_FUTURE_SECONDS = 5;

/** A DPoP proof is a small JWT; anything larger is refused before it is parsed. */
export const DPOP_PROOF_MAX_LENGTH_BYTES = 8 * 1024;

/**
 * DPoP proof ids remembered per isolate for replay detection (without the DPOP_REPLAY Durable
 * Object). At about 100 bytes each this is about 1 MB; past it the oldest are dropped, which only
 * shortens how long an old proof is remembered, never lets a fresh one through twice in a row.
 */
export const DPOP_REPLAY_CACHE_MAX_ENTRIES = 10_000;

/** A server DPoP nonce (DPOP_NONCE_SECRET set) is good in its window and the next: 5 to 10 minutes. */
export const DPOP_NONCE_WINDOW_MS = 5 * 60_000;

/** A DPOP_REPLAY object that has not answered in this time is skipped for the isolate's own replay record. */
export const DPOP_REPLAY_TIMEOUT_MS = 1_000;

/**
 * Encrypted tokens remembered decrypted per isolate and decryption secret: the same token comes
 * back for its whole lifetime, and each decryption is a private-key operation. At about 5 KB per
 * entry (both texts) this bounds it near 5 MB.
 */
export const DECRYPTED_TOKEN_CACHE_MAX_ENTRIES = 1_024;

/**
 * Protected headers of signed tokens remembered parsed per isolate. An issuer signs every token
 * with one of a handful of headers (`alg`, `kid`, `typ`), so a new token's header is nearly
 * always one seen already; a header of someone spraying new ones only empties the table.
 */
export const PARSED_HEADER_CACHE_MAX_ENTRIES = 64;

/** Access tokens are a few KB; anything larger is refused before any parsing. */
export const MAX_TOKEN_LENGTH_BYTES = 16 * 1024;

/** An origin that sends no response headers within this is answered for with 504 (`ORIGIN_TIMEOUT_SECONDS`). */
export const DEFAULT_ORIGIN_TIMEOUT_SECONDS = 30;

/** A longer wait holds the client and the Worker's connection for minutes on an origin that is down. */
export const MAX_ORIGIN_TIMEOUT_SECONDS = 300;

/** How long an active introspection answer may be reused unless the issuer says (RFC 7662 §4: a trade-off with revocation). */
export const DEFAULT_INTROSPECTION_CACHE_SECONDS = 60;

/** The longest an operator may let an active answer be reused: an hour of a revoked token is already long. */
export const MAX_INTROSPECTION_CACHE_SECONDS = 3_600;

/**
 * How long an inactive answer is reused, in memory and the data centre's Cache API: a flood of
 * made-up tokens costs one call each, then nothing, while a newly issued token is not refused for long.
 */
export const INTROSPECTION_INACTIVE_CACHE_SECONDS = 10;

/** An introspection endpoint that does not answer in this time is treated as down (503). */
export const INTROSPECTION_TIMEOUT_MS = 5_000;

/** Introspection answers are a few hundred bytes; a larger one is refused. */
export const INTROSPECTION_MAX_SIZE_BYTES = 64 * 1024;

/**
 * Calls to an introspection endpoint one isolate may have in flight. Beyond it, a request with a
 * token nobody has asked about is refused with 503 at once rather than queued: random opaque
 * tokens must not turn the Worker into a load generator against the authorization server.
 */
export const INTROSPECTION_MAX_IN_FLIGHT = 32;

/** Introspection answers remembered per isolate and issuer (a few hundred bytes each). */
export const INTROSPECTION_CACHE_MAX_ENTRIES = 4_096;

/** How long a client should wait before retrying when the introspection endpoint is unavailable. */
export const INTROSPECTION_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/** How long a client should wait before retrying when the issuer's keys are unavailable. */
export const JWKS_UNAVAILABLE_RETRY_AFTER_SECONDS = 30;

/** An HMAC key shorter than its 32-byte output is the weak link (RFC 2104 §3); refuse to sign with one. */
export const IDENTITY_SIGNING_SECRET_MIN_LENGTH = 32;

/** How long clients may cache the RFC 9728 protected-resource metadata document. */
export const RESOURCE_METADATA_MAX_AGE_SECONDS = 3_600;

/**
 * How request paths are read unless the policy says otherwise (docs/guides/policy.md, "Paths the
 * origin receives"): the strictest reading, which every origin we know of agrees with.
 */
export const DEFAULT_PATH_RULES = {
  /** `//` is `/` (nginx, IIS and many frameworks merge slashes). */
  mergeSlashes: true,
  /** Routes match the path's exact case. */
  caseSensitive: true,
  /** A segment holding `;` is refused: servlet containers read `..;` as `..`. */
  pathParameters: 'refuse',
} as const;

/** Default realm in the `WWW-Authenticate` challenge. */
export const DEFAULT_REALM = 'api';

/**
 * Verified tokens remembered per isolate and issuer. At about 2 KB per entry (token plus
 * payload) this bounds the cache near 8 MB, well inside a Worker's 128 MB.
 */
export const VERIFIED_TOKEN_CACHE_MAX_ENTRIES = 4_096;

/** An issuer's DPoP mode unless it says otherwise: Bearer only. */
export const DEFAULT_DPOP_MODE = 'off';

/** Which tokens an introspecting issuer sends to its endpoint unless it says otherwise: those that are not JWS/JWE. */
export const DEFAULT_INTROSPECT_TOKENS = 'opaque';

/** Whether the origin receives the token where the client sent it, unless the policy says otherwise. */
export const DEFAULT_FORWARD_AUTHORIZATION = true;

/** Whether the method and URL override headers reach the origin (and steer routing), unless the policy says otherwise. */
export const DEFAULT_FORWARD_OVERRIDE_HEADERS = false;

/**
 * The share of successful requests (forwarded, or allowed on by the middleware) whose decision
 * line is written at LOG_LEVEL=info: refusals and failures are always written, every success at
 * debug. A line per success costs a high-traffic API more than verifying a repeated token does.
 */
export const DEFAULT_LOG_SUCCESS_SAMPLE = 0.01;

/** Where a token is read unless the policy says otherwise: the Authorization header only. */
export const DEFAULT_TOKEN_SOURCES = ['authorization'] as const;

/**
 * The header the identity assertion (a JWT the gateway signs for the origin) travels in unless
 * the policy names another; the name Cloudflare Access, Google IAP and Pomerium each give theirs
 * ends the same way.
 */
export const DEFAULT_IDENTITY_ASSERTION_HEADER = 'X-Auth-Assertion';

/** How long an identity assertion is valid unless the policy says otherwise: one hop's latency and a retry, no more. */
export const DEFAULT_IDENTITY_ASSERTION_LIFETIME_SECONDS = 60;

/** Shorter than this, an origin whose clock lags a few seconds refuses assertions that were just signed. */
export const MIN_IDENTITY_ASSERTION_LIFETIME_SECONDS = 5;

/** Longer than this, a captured assertion (in a log, a trace) stays usable at the origin for too long. */
export const MAX_IDENTITY_ASSERTION_LIFETIME_SECONDS = 300;

/** The verified token's top-level claims an identity assertion carries unless the policy lists others. */
export const DEFAULT_IDENTITY_ASSERTION_CLAIMS: readonly string[] = ['sub', 'scope'];

/**
 * Claims the gateway writes into every identity assertion itself: a copied claim of these names
 * would contradict ours (its issuer, audience, times, id, the token's issuer), so none may be listed.
 */
export const RESERVED_IDENTITY_ASSERTION_CLAIMS: readonly string[] = [
  'iss',
  'aud',
  'iat',
  'nbf',
  'exp',
  'jti',
  'token_iss',
];

/** Where the public keys of the identity assertions are served unless the policy names another path. */
export const DEFAULT_IDENTITY_ASSERTION_JWKS_PATH = '/.well-known/edge-verifier/jwks.json';

/**
 * How long origins may cache the assertion JWKS. A new signing key must be published this long
 * before it signs (listed second in the secret, then moved first), as with any issuer's rotation.
 */
export const IDENTITY_ASSERTION_JWKS_MAX_AGE_SECONDS = 300;

/**
 * Signed assertions remembered per isolate and assertion setting (the route's object and its
 * audience), keyed by the verified payload. At about 1.5 KB each (payload segment plus JWT)
 * this bounds one setting's cache near 1.5 MB.
 */
export const IDENTITY_ASSERTION_CACHE_MAX_ENTRIES = 1_024;

/**
 * The periods a Workers Rate Limiting binding counts over (`simple.period` in `[[ratelimits]]`):
 * the runtime offers these two only.
 */
export const RATE_LIMIT_PERIODS_SECONDS = [10, 60] as const;
