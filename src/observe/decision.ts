import type { RouteConfig } from '../config.ts';
import type { DpopChallenge } from '../errors.ts';

/** Where the key that verified a request came from (RFC-free vocabulary of our three tiers). */
export type KeyTier =
  | 'token_cache'
  | 'memory'
  | 'cache_api'
  | 'kv'
  | 'coordinator'
  | 'issuer'
  | 'introspection'
  | 'introspection_cache';

/**
 * What is known of one request's decision as it is made, filled in by each step: the route
 * matched, the issuer chosen, the key found and where. Never the token, never a claim's value.
 */
export interface Decision {
  route: string | undefined;
  /** The normalised path (or an override's) that routes matched, when it is not the path as sent. */
  matchedPath: string | undefined;
  issuer: string | undefined;
  /** The `kid` of the key that verified the token (a key we hold, so never a client's made-up value). */
  kid: string | undefined;
  keyTier: KeyTier | undefined;
  /** Milliseconds in verification. Workers advance the clock only across I/O, so this counts key fetches, not CPU. */
  verifyMs: number | undefined;
  /** The tenant a `{tenantid}` issuer template matched. */
  tenant: string | undefined;
  /** Where the token came from (`authorization`, `header:<name>`, `cookie:<name>`, `query:<name>`). */
  tokenSource: string | undefined;
  /** The token's `alg`, for debug lines. */
  alg: string | undefined;
  /** On a route that accepts DPoP, what its refusals' challenges say (never logged): set once the route is known. */
  dpop: DpopChallenge | undefined;
}

/** An empty decision with every member present, so filling it in never changes its shape. */
export function newDecision(): Decision {
  return {
    route: undefined,
    matchedPath: undefined,
    issuer: undefined,
    kid: undefined,
    keyTier: undefined,
    verifyMs: undefined,
    tenant: undefined,
    tokenSource: undefined,
    alg: undefined,
    dpop: undefined,
  };
}

/** A route as logs name it: its methods (if any) and its path pattern. */
export function routeLabel(route: Pick<RouteConfig, 'path' | 'methods'>): string {
  const path = route.path === 'any' ? '*' : 'exact' in route.path ? route.path.exact : `${route.path.prefix}*`;
  return route.methods ? `${route.methods.join(',')} ${path}` : path;
}
