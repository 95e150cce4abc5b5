import type { JWTPayload } from 'jose';
import type { Config } from '../config.ts';
import { VERIFIED_TOKEN_CACHE_MAX_ENTRIES } from '../constants.ts';
import { VerifierError } from '../errors.ts';
import { createJwksResolver, type JwksResolver, type ResolverIo } from '../jwks/resolver.ts';
import { consoleLogger, type Logger } from '../log.ts';
import { findRule, isCorsPreflight } from '../policy/route-policy.ts';
import { authorizeScopes } from './authorize.ts';
import { extractBearerToken, isB64token } from './extract-token.ts';
import { createVerifiedTokenCache } from './token-cache.ts';
import { verifyToken } from './verify-token.ts';

/** What a verified request carries on to the origin and to `c.var.auth`. */
export interface AuthResult {
  /** The token's `sub`, when it has one. */
  readonly subject: string | undefined;
  /** The verified payload. */
  readonly claims: JWTPayload;
  /**
   * The token's payload segment as the issuer signed it: base64url of the claims' JSON, sent
   * to the origin as X-Auth-Claims. The shape check allows one spelling per payload (canonical
   * base64url, no duplicate members), so it says exactly what `claims` holds.
   */
  readonly encodedClaims: string;
}

export interface VerifierDeps {
  /** Clock in epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
  /** Structured log sink. Default: one JSON line per event on `console.log`. */
  readonly log?: Logger;
  /** Fetch for every outbound request (discovery, JWKS, origin). Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
}

export interface Verifier {
  readonly config: Config;
  /**
   * `null` when the request needs no token (public route, CORS preflight); the verified result
   * otherwise. Throws `VerifierError` for every refusal. `url` is the request's URL when the
   * caller has parsed it already (default: parsed here).
   */
  authenticate(request: Request, io: ResolverIo, url?: URL): Promise<AuthResult | null>;
  /** Refreshes every issuer's keys into all tiers (for the scheduled handler). */
  refreshKeys(io: ResolverIo): Promise<void>;
}

/** Built once per isolate: the resolvers it holds are the in-memory key cache. */
export function createVerifier(config: Config, deps: VerifierDeps = {}): Verifier {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? consoleLogger;
  const tokenCaches = config.issuers.map(() => createVerifiedTokenCache(VERIFIED_TOKEN_CACHE_MAX_ENTRIES));
  const resolvers: JwksResolver[] = config.issuers.map((issuer) =>
    createJwksResolver({
      issuer: issuer.issuer,
      jwksUri: issuer.jwksUri,
      ttlSeconds: issuer.jwksCacheTtlSeconds,
      cooldownSeconds: issuer.jwksRefreshCooldownSeconds,
      now,
      log,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
    }),
  );

  return {
    config,
    async authenticate(request, io, url = new URL(request.url)) {
      if (isCorsPreflight(request)) return null;
      const rule = findRule(config.rules, url.pathname);
      // The config always ends with a catch-all rule; a gap would be a bug, and a bug must fail closed.
      if (!rule) throw new VerifierError('internal_error');
      if (rule.access === 'public') return null;
      const issuer = config.issuers[rule.issuer];
      const resolver = resolvers[rule.issuer];
      const tokenCache = tokenCaches[rule.issuer];
      if (!issuer || !resolver || !tokenCache) throw new VerifierError('internal_error');

      const token = extractBearerToken(request.headers.get('authorization'));
      // RFC 6750 §2: a client must not send the token in more than one way; the query form is not accepted.
      if (url.search && url.searchParams.has('access_token')) throw new VerifierError('malformed_authorization');
      const nowMs = now();
      const versionBefore = resolver.currentVersion(io);
      let claims = tokenCache.get(token, nowMs, versionBefore);
      if (!claims) {
        try {
          claims = await verifyToken(token, issuer, (header) => resolver.getKey(header, io), nowMs);
        } catch (error) {
          if (error instanceof VerifierError && error.code === 'malformed_token' && !isB64token(token)) {
            throw new VerifierError('malformed_authorization');
          }
          throw error;
        }
        const versionAfter = resolver.currentVersion(io);
        // A set that changed during verification may no longer hold the key that verified it.
        if (versionBefore === undefined || versionBefore === versionAfter) tokenCache.set(token, claims, versionAfter);
      }
      authorizeScopes(claims, rule.requiredScopes);
      return {
        subject: typeof claims.sub === 'string' ? claims.sub : undefined,
        claims,
        encodedClaims: payloadSegment(token),
      };
    },
    async refreshKeys(io) {
      await Promise.all(resolvers.map((resolver) => resolver.refresh(io)));
    },
  };
}

function payloadSegment(token: string): string {
  const first = token.indexOf('.');
  return token.slice(first + 1, token.indexOf('.', first + 1));
}
