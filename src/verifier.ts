import type { JWTPayload } from 'jose';
import { authorize, challengeScope } from './authz/authorize.ts';
import { checkRateLimit, type RateLimitIo } from './authz/rate-limit.ts';
import {
  type BindingCheck,
  compileRouteBinding,
  createBindingCheck,
  type RouteBinding,
} from './binding/check-binding.ts';
import type { DpopIo } from './binding/dpop.ts';
import type { Config, IssuerConfig, RouteConfig } from './config.ts';
import { type CompiledSources, compileTokenSources } from './credentials/compile-sources.ts';
import { withoutQueryTokens } from './credentials/query.ts';
import { readCredentials } from './credentials/read-credentials.ts';
import { VerifierError } from './errors.ts';
import type { ChallengeContext } from './http/challenge.ts';
import { matchIssuer } from './issuers/issuer-pattern.ts';
import { createIssuerRuntime, type IssuerRuntime } from './issuers/issuer-runtime.ts';
import type { ResolverIo } from './keys/remote/resolver.ts';
import { type Decision, newDecision, routeLabel } from './observe/decision.ts';
import { consoleLogger, type Logger } from './observe/log.ts';
import { requestTarget } from './routing/request-target.ts';
import { createRouteTable } from './routing/route-table.ts';
import { type Clock, systemClock } from './shared/clock.ts';
import { createTokenVerifier, type TokenIo, type VerifiedToken } from './token/verify-with-issuers.ts';

/** What a verified request carries on to the origin and to `c.var.auth`. */
export interface AuthResult {
  /** The token's `sub`, when it has a non-empty one. */
  readonly subject: string | undefined;
  /** The id of the issuer that verified it (`default` for the flat variables). */
  readonly issuerId: string;
  /** The tenant its `iss` named under a `{tenantid}` template; `undefined` for an exact `iss`. */
  readonly tenant: string | undefined;
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
  /** The route the request matched (its origin and rules). */
  readonly route: RouteConfig;
  /** The URL the origin receives: the normalised path that the route matched, the query as sent. */
  readonly url: URL;
  /** The request's own method, as sent: what the origin receives (read once; each read is a call into the runtime). */
  readonly method: string;
  /** The verified identity; `null` on a public route, a CORS preflight, or an optional route without a token. */
  readonly auth: AuthResult | null;
  /** What each step found (route, issuer, key), for the request's decision line. */
  readonly decision: Decision;
}

/** What the verifier takes from outside: its clock, logger and fetch (each defaults to the runtime's). */
export interface VerifierDeps {
  /** Clock in epoch milliseconds. Default `Date.now`. */
  readonly now?: () => number;
  /** Time and timers together (waits on key refreshes, DPoP); default: the runtime's timers over `now`. */
  readonly clock?: Clock;
  /** Structured log sink. Default: one JSON line per event on `console.log`. */
  readonly log?: Logger;
  /** Fetch for every outbound request (discovery, JWKS, origin). Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
}

/**
 * The request's I/O: the key cache's, the Worker's secrets (decryption keys, the DPoP nonce
 * secret), the DPoP replay check, the Rate Limiting bindings.
 */
export interface RequestIo extends TokenIo, DpopIo, RateLimitIo {}

/** The verification pipeline for one config, built once per isolate: it holds the isolate's key caches. */
export interface Verifier {
  /** The config it was built from. */
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

/** A route as the verifier runs it: what it decides at build time, compiled once next to it. */
interface CompiledRoute {
  readonly config: RouteConfig;
  /** Its name in logs. */
  readonly label: string;
  readonly issuers: readonly IssuerRuntime[];
  /** Where its token may come from, in order. */
  readonly credentials: CompiledSources;
  /** The `scope` its 403 challenge names. */
  readonly scope: string;
  readonly binding: RouteBinding;
}

/** Built once per isolate: the issuers' key sources it holds are the in-memory key cache. */
export function createVerifier(config: Config, deps: VerifierDeps = {}): Verifier {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? consoleLogger;
  const clock = deps.clock ?? systemClock(now);
  const runtimes = new Map<IssuerConfig, IssuerRuntime>(
    config.issuers.map((issuer) => [issuer, createIssuerRuntime(issuer, { now, clock, log, fetch: deps.fetch })]),
  );
  const routes: CompiledRoute[] = config.routes.map((route) => ({
    config: route,
    label: routeLabel(route),
    issuers: route.issuers.map((issuer) => runtimes.get(issuer) as IssuerRuntime),
    credentials: compileTokenSources(route.tokenSources ?? config.tokenSources),
    scope: challengeScope(route),
    binding: compileRouteBinding(route),
  }));
  const table = createRouteTable(routes, config.paths);
  const verifyToken = createTokenVerifier(now);
  const binding: BindingCheck = createBindingCheck(clock, log);

  /**
   * The pipeline, top-down: normalise the path and match the route; read the credentials from
   * the route's sources; verify the token with the route's issuers; check the binding its scheme
   * and `cnf` ask for; authorize it against the route; count it against the route's rate limit.
   * A public route, a CORS preflight and an optional route without a token skip verification.
   */
  async function authenticate(
    request: Request,
    io: RequestIo,
    url: URL = new URL(request.url),
    decision: Decision = newDecision(),
  ): Promise<Authenticated> {
    const target = requestTarget(request, url, config);
    if (target.path.path !== target.sentPath) decision.matchedPath = target.path.path;
    const route = table.match(target.method, target.path);
    decision.route = route.label;
    const own = target.own ? table.match(target.own.method, target.own.path) : route;
    const auth =
      route.config.access === 'public' || target.preflight ? null : await identify(request, url, route, io, decision);
    if (own !== route) admitsToo(own, auth, request);
    // Last, after authorization: a refused request never spends a caller's budget. A preflight is the browser's, not a call.
    if (!target.preflight) {
      const limit = route.config.rateLimit;
      if (limit) await checkRateLimit(limit, route.label, auth, request, io, log);
      // The request's own route counts it too when override headers routed it elsewhere: an
      // origin that ignores them runs the request's own method and path.
      const ownLimit = own === route ? undefined : own.config.rateLimit;
      if (ownLimit) await checkRateLimit(ownLimit, own.label, auth, request, io, log);
    }
    // A token in the URL never reaches the origin (it would end up in its logs).
    const forwarded = withoutQueryTokens(
      withoutQueryTokens(target.url, route.credentials.queryNames),
      own === route ? [] : own.credentials.queryNames,
    );
    return { route: own.config, url: forwarded, method: target.sentMethod, auth, decision };
  }

  /** The route's token, verified, bound and authorised; `null` on an optional route that has none. */
  async function identify(
    request: Request,
    url: URL,
    route: CompiledRoute,
    io: RequestIo,
    decision: Decision,
  ): Promise<AuthResult | null> {
    // RFC 9449 §7.1: on a route that accepts DPoP, every refusal from here on names both schemes.
    if (route.binding.dpop) decision.dpop = { ...route.binding.dpop, scheme: undefined };
    const { sources, cookies, readsAccessTokenParameter } = route.credentials;
    const credentials = readCredentials(sources, cookies, request, url, readsAccessTokenParameter);
    if (credentials === undefined) {
      if (route.config.access === 'optional') return null;
      throw new VerifierError('missing_token');
    }
    decision.tokenSource = credentials.source.label;
    if (route.binding.dpop) decision.dpop = { ...route.binding.dpop, scheme: credentials.scheme };
    binding.acceptsScheme(credentials.scheme, route.binding);
    const verified = await verifyToken(credentials.token, route.issuers, io, decision);
    await binding.check(
      { issuer: verified.issuer.config, claims: verified.claims, credentials },
      route.binding,
      request,
      url,
      io,
    );
    authorize(verified.claims, route.config, route.scope, verified.issuer.config.scopeClaims);
    return authResult(verified, decision);
  }

  return {
    config,
    challenge: { realm: config.realm, resourceMetadata: config.resource?.metadataUrl },
    authenticate,
    async refreshKeys(io) {
      await Promise.all([...runtimes.values()].map(({ keys }) => keys.refresh(io)));
    },
  };
}

function authResult({ issuer, claims, encodedClaims }: VerifiedToken, decision: Decision): AuthResult {
  const tenant = matchIssuer(issuer.config, claims.iss) || undefined;
  decision.tenant = tenant;
  return {
    tenant,
    // An empty `sub` (Cloudflare Access service tokens) names nobody.
    subject: typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : undefined,
    issuerId: issuer.config.id,
    claims,
    encodedClaims,
  };
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
  const issuer = route.issuers.find((candidate) => candidate.config.id === auth.issuerId);
  if (!issuer) throw new VerifierError('wrong_issuer');
  authorize(auth.claims, route.config, route.scope, issuer.config.scopeClaims);
}
