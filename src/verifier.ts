import type { JWTPayload } from 'jose';
import type { Config, IssuerConfig, RouteConfig } from '../config.ts';
import { VERIFIED_TOKEN_CACHE_MAX_ENTRIES } from '../constants.ts';
import { ConfigError, type DpopChallenge, VerifierError } from '../errors.ts';
import type { ChallengeContext } from '../http/challenge.ts';
import { systemClock } from '../jwks/clock.ts';
import { createJwksResolver, type JwksResolver, type ResolverIo } from '../jwks/resolver.ts';
import { consoleLogger, type Logger } from '../log.ts';
import { type Decision, newDecision, routeLabel } from '../observe/decision.ts';
import { requestTarget } from '../routing/request-target.ts';
import { createRouteTable } from '../routing/route-table.ts';
import { authorize, challengeScope } from './authorize.ts';
import { checkJweHeader, type DecryptionKeys, parseDecryptionKeys } from './decrypt-token.ts';
import { createDpopCheck, type DpopIo } from './dpop.ts';
import { type Credentials, extractCredentials, isB64token } from './extract-token.ts';
import { checkSenderConstraint } from './sender-constraint.ts';
import { createVerifiedTokenCache, type VerifiedTokenCache } from './token-cache.ts';
import { looksLikeJwe, parseJweHeader, parseTokenShape, type TokenShape } from './token-shape.ts';
import { verifyToken } from './verify-token.ts';

/** What a verified request carries on to the origin and to `c.var.auth`. */
export interface AuthResult {
  /** The token's `sub`, when it has one. */
  readonly subject: string | undefined;
  /** The id of the issuer that verified it (`default` for the flat variables). */
  readonly issuerId: string;
  /** The verified payload. */
  readonly claims: JWTPayload;
  /**
   * The token's payload segment as the issuer signed it: base64url of the claims' JSON, sent
   * to the origin as X-Auth-Claims. The shape check allows one spelling per payload (canonical
   * base64url, no duplicate members), so it says exactly what `claims` holds.
   */
  readonly encodedClaims: string;
}

/** A request's outcome: the route it matched (its origin and rules), and its identity (`null` when it has none). */
export interface Authenticated {
  readonly route: RouteConfig;
  /** The URL the origin receives: the normalised path that the route matched, the query as sent. */
  readonly url: URL;
  readonly auth: AuthResult | null;
  /** What each step found (route, issuer, key), for the request's decision line. */
  readonly decision: Decision;
}

export interface VerifierDeps {
  /** Clock in epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
  /** Structured log sink. Default: one JSON line per event on `console.log`. */
  readonly log?: Logger;
  /** Fetch for every outbound request (discovery, JWKS, origin). Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
}

/** The request's I/O: the key cache's, and the Worker's secrets (decryption keys). */
export interface RequestIo extends ResolverIo, DpopIo {
  /** A Worker secret's text (decryption keys, the DPoP nonce secret), or `undefined` when the Worker has none of that name. */
  secret?(name: string): string | undefined;
}

export interface Verifier {
  readonly config: Config;
  /** What every challenge carries (realm, RFC 9728 metadata URL). */
  readonly challenge: ChallengeContext;
  /**
   * The matched route and the verified result (`null` on a public route, a CORS preflight, or
   * an optional route without credentials). Throws `VerifierError` for every refusal. `url` is
   * the request's URL when the caller has parsed it already (default: parsed here). Each step
   * notes what it found on `decision` (route, issuer, key), for the request's log line.
   */
  authenticate(request: Request, io: RequestIo, url?: URL, decision?: Decision): Promise<Authenticated>;
  /** Refreshes every issuer's keys into all tiers (for the scheduled handler). */
  refreshKeys(io: ResolverIo): Promise<void>;
}

/** One issuer at run time: its config, its key cache and its verified tokens, never shared with another issuer. */
interface IssuerRuntime {
  readonly config: IssuerConfig;
  readonly resolver: JwksResolver;
  readonly tokenCache: VerifiedTokenCache;
  /** Its decryption keys as parsed from its secret's text, kept while the text stays the same. */
  decryption?: { readonly text: string; readonly keys: DecryptionKeys };
}

interface CompiledRoute {
  readonly config: RouteConfig;
  /** Its name in logs, fixed at build time. */
  readonly label: string;
  readonly issuers: readonly IssuerRuntime[];
  /** The `scope` its 403 challenge names. */
  readonly scope: string;
  /** What its refusals say of DPoP; `undefined` when none of its issuers accepts DPoP here. */
  readonly dpop: Omit<DpopChallenge, 'scheme'> | undefined;
}

/** A route accepts DPoP when one of its issuers does there; it accepts Bearer unless all of them require DPoP. */
function dpopChallengeOf(route: RouteConfig): Omit<DpopChallenge, 'scheme'> | undefined {
  const modes = route.issuers.map((issuer) => ({ issuer, mode: route.dpop ?? issuer.dpop }));
  const accepting = modes.filter(({ mode }) => mode !== 'off');
  if (accepting.length === 0) return undefined;
  return {
    algs: [...new Set(accepting.flatMap(({ issuer }) => issuer.algorithms))],
    bearer: modes.some(({ mode }) => mode !== 'required'),
  };
}

/** Built once per isolate: the resolvers it holds are the in-memory key cache. */
export function createVerifier(config: Config, deps: VerifierDeps = {}): Verifier {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? consoleLogger;
  const runtimes = new Map<IssuerConfig, IssuerRuntime>(
    config.issuers.map((issuer) => [issuer, issuerRuntime(issuer, now, log, deps.fetch)]),
  );
  const routes: CompiledRoute[] = config.routes.map((route) => ({
    config: route,
    issuers: route.issuers.map((issuer) => runtimes.get(issuer) as IssuerRuntime),
    scope: challengeScope(route),
    label: routeLabel(route),
    dpop: dpopChallengeOf(route),
  }));
  const dpop = createDpopCheck(systemClock(now), log);
  const table = createRouteTable(routes, config.paths);

  /** The token's issuer among the route's, and its verified claims: from the token cache, or verified now. */
  async function verifyForRoute(
    token: string,
    route: CompiledRoute,
    io: RequestIo,
    decision: Decision,
    /** `false` for the token inside an encrypted one: not from the header, and not unwrapped again. */
    outer = true,
  ): Promise<AuthResult> {
    const nowMs = now();
    for (const issuer of route.issuers) {
      const cached = issuer.tokenCache.get(token, nowMs, issuer.resolver.currentVersion(io));
      if (cached) {
        decision.issuer = issuer.config.id;
        decision.keyTier = 'token_cache';
        return result(issuer, cached, token);
      }
    }
    let shape: TokenShape;
    try {
      shape = outer ? shapeOf(token) : parseTokenShape(token);
    } catch (error) {
      // Only a token that is not a JWS is looked at again: the signed path pays nothing for this.
      if (outer && looksLikeJwe(token)) return verifyEncrypted(token, route, io, decision);
      throw error;
    }
    // Chosen by the unverified `iss` among the route's issuers only: nothing is fetched for any other.
    const issuer = route.issuers.find((candidate) => candidate.config.issuer === shape.claims.iss);
    if (!issuer) throw new VerifierError('wrong_issuer');
    decision.issuer = issuer.config.id;
    if (typeof shape.header.alg === 'string') decision.alg = shape.header.alg;
    const { resolver, tokenCache } = issuer;
    const versionBefore = resolver.currentVersion(io);
    const claims = await verifyToken(
      token,
      shape,
      issuer.config,
      (header) => resolver.getKeys(header, io, decision),
      nowMs,
    );
    decision.verifyMs = now() - nowMs;
    const versionAfter = resolver.currentVersion(io);
    // A set that changed during verification may no longer hold the key that verified it.
    if (versionBefore === undefined || versionBefore === versionAfter) tokenCache.set(token, claims, versionAfter);
    return result(issuer, claims, token);
  }

  /** The request's credentials read, verified and authorised for the route; refusals name the route's DPoP scheme too. */
  async function verifyRequest(
    request: Request,
    url: URL,
    route: CompiledRoute,
    io: RequestIo,
    decision: Decision,
  ): Promise<AuthResult> {
    let scheme: Credentials['scheme'] | undefined;
    try {
      const credentials = extractCredentials(request.headers.get('authorization'));
      scheme = credentials.scheme;
      // RFC 6750 §2: a client must not send the token in more than one way; the query form is not accepted.
      if (url.search && url.searchParams.has('access_token')) throw new VerifierError('malformed_authorization');
      const auth = await verifyCredentials(request, url, credentials, route, io, decision);
      authorize(auth.claims, route.config, route.scope);
      return auth;
    } catch (error) {
      // On a route that accepts DPoP, every refusal names both schemes (RFC 9449 §7.1).
      if (route.dpop && error instanceof VerifierError) error.dpop = { ...route.dpop, scheme };
      throw error;
    }
  }

  /**
   * The token, verified; then the proof its scheme asks for: a DPoP proof of the key it is bound
   * to (RFC 9449 §7.1), once only; or, under `required`, refused as a Bearer token. Then its
   * `cnf` binding. Checked on every request, whether the token came from the cache or not.
   */
  async function verifyCredentials(
    request: Request,
    url: URL,
    { scheme, token }: Credentials,
    route: CompiledRoute,
    io: RequestIo,
    decision: Decision,
  ): Promise<AuthResult> {
    if (scheme === 'dpop' && !route.dpop) throw new VerifierError('unsupported_scheme');
    // Every issuer of the route requires DPoP: a Bearer token is refused before any verification work.
    if (scheme === 'bearer' && route.dpop?.bearer === false) throw new VerifierError('dpop_required');
    const auth = await verifyForRoute(token, route, io, decision);
    if (!route.dpop) {
      checkSenderConstraint(auth.claims, request);
      return auth;
    }
    const issuer = route.issuers.find((candidate) => candidate.config.id === auth.issuerId) as IssuerRuntime;
    const mode = route.config.dpop ?? issuer.config.dpop;
    if (scheme === 'dpop') {
      if (mode === 'off') throw new VerifierError('unsupported_scheme');
      const context = { method: request.method, url, accessToken: token, algorithms: issuer.config.algorithms };
      await dpop.prove(request.headers.get('dpop'), context, io, ({ jkt }) =>
        checkSenderConstraint(auth.claims, request, jkt),
      );
      return auth;
    }
    if (mode === 'required') throw new VerifierError('dpop_required');
    checkSenderConstraint(auth.claims, request);
    return auth;
  }

  /**
   * A nested JWT (a JWE around a JWS): decrypted with the keys of a route issuer that accepts
   * encrypted tokens, then verified as a plain token by that issuer only. The header is checked
   * before any key is touched; a JWE inside the JWE is refused.
   */
  async function verifyEncrypted(
    token: string,
    route: CompiledRoute,
    io: RequestIo,
    decision: Decision,
  ): Promise<AuthResult> {
    const decrypting = route.issuers.filter((issuer) => issuer.config.decryptionKeys !== undefined);
    if (decrypting.length === 0) throw new VerifierError('encrypted_token_not_accepted');
    const { alg, kid } = checkJweHeader(parseJweHeader(token));
    for (const issuer of decrypting) {
      let inner: string;
      try {
        inner = await decryptionKeysOf(issuer, io).decrypt(token, alg, kid);
      } catch (error) {
        if (error instanceof VerifierError && error.code === 'decryption_failed') continue;
        throw error;
      }
      return verifyForRoute(inner, { ...route, issuers: [issuer] }, io, decision, false);
    }
    throw new VerifierError('decryption_failed');
  }

  return {
    config,
    challenge: { realm: config.realm, resourceMetadata: config.resource?.metadataUrl },
    async authenticate(request, io, url = new URL(request.url), decision = newDecision()) {
      const target = requestTarget(request, url, config);
      if (target.path.path !== target.sentPath) decision.matchedPath = target.path.path;
      const route = table.match(target.method, target.path);
      decision.route = route.label;
      const own = target.own ? table.match(target.own.method, target.own.path) : route;
      const auth = anonymous(route, target.preflight, request)
        ? null
        : await verifyRequest(request, url, route, io, decision);
      if (own !== route) admitsToo(own, auth, request);
      return { route: own.config, url: target.url, auth, decision };
    },
    async refreshKeys(io) {
      await Promise.all([...runtimes.values()].map(({ resolver }) => resolver.refresh(io)));
    },
  };
}

/** The issuer's decryption keys from its Worker secret; a secret that is missing or not a JWKS of private keys is the deployment's error. */
function decryptionKeysOf(issuer: IssuerRuntime, io: RequestIo): DecryptionKeys {
  const name = issuer.config.decryptionKeys as string;
  const text = io.secret?.(name);
  if (text === undefined) throw new ConfigError(name, 'is not set: the Worker secret named by decryption_keys');
  if (issuer.decryption?.text !== text) issuer.decryption = { text, keys: parseDecryptionKeys(name, text) };
  return issuer.decryption.keys;
}

function issuerRuntime(
  issuer: IssuerConfig,
  now: () => number,
  log: Logger,
  doFetch: typeof fetch | undefined,
): IssuerRuntime {
  return {
    config: issuer,
    tokenCache: createVerifiedTokenCache(VERIFIED_TOKEN_CACHE_MAX_ENTRIES),
    resolver: createJwksResolver({
      issuer: issuer.issuer,
      jwksUri: issuer.jwksUri,
      ttlSeconds: issuer.jwksCacheTtlSeconds,
      cooldownSeconds: issuer.jwksRefreshCooldownSeconds,
      clock: systemClock(now),
      log,
      ...(doFetch ? { fetch: doFetch } : {}),
    }),
  };
}

/** The unverified header and payload; a token that is not even a b64token is a malformed header (400), not a bad token. */
function shapeOf(token: string): TokenShape {
  try {
    return parseTokenShape(token);
  } catch (error) {
    if (error instanceof VerifierError && error.code === 'malformed_token' && !isB64token(token)) {
      throw new VerifierError('malformed_authorization');
    }
    throw error;
  }
}

function result(issuer: IssuerRuntime, claims: JWTPayload, token: string): AuthResult {
  return {
    subject: typeof claims.sub === 'string' ? claims.sub : undefined,
    issuerId: issuer.config.id,
    claims,
    encodedClaims: payloadSegment(token),
  };
}

function payloadSegment(token: string): string {
  const first = token.indexOf('.');
  return token.slice(first + 1, token.indexOf('.', first + 1));
}

/** A request the route lets through without a token: a public route, a CORS preflight, an optional route without `Authorization`. */
function anonymous(route: CompiledRoute, preflight: boolean, request: Request): boolean {
  if (route.config.access === 'public' || preflight) return true;
  return route.config.access === 'optional' && !request.headers.has('authorization');
}

/**
 * With forwarded override headers the route was chosen by what they name; the request's own
 * method and path must pass their own route too, with the same identity, since an origin that
 * ignores the override executes those instead.
 */
function admitsToo(route: CompiledRoute, auth: AuthResult | null, request: Request): void {
  if (route.config.access === 'public') return;
  if (auth === null) {
    if (route.config.access === 'optional' && !request.headers.has('authorization')) return;
    throw new VerifierError('missing_token');
  }
  if (!route.issuers.some((issuer) => issuer.config.id === auth.issuerId)) throw new VerifierError('wrong_issuer');
  authorize(auth.claims, route.config, route.scope);
}
