import type { RouteConfig } from './config-model.ts';
import { matchesPath } from './path-pattern.ts';

/**
 * Whether a route covers a request. `pathname` must come from `new URL(...)`. A pattern never
 * matches a path holding percent-encoded `/`, `\` or `.` (see `matchesPath`): an origin might
 * decode it into another route's path. Only the flat variables' catch-all (`any`) takes it.
 */
export function routeMatches(route: Pick<RouteConfig, 'path' | 'methods'>, method: string, pathname: string): boolean {
  if (route.methods !== undefined && !route.methods.includes(method)) return false;
  return route.path === 'any' || matchesPath(route.path, pathname);
}

/**
 * A CORS preflight carries no credentials by design (Fetch standard, CORS-preflight request),
 * so it must reach the origin unverified or no browser could call the API.
 */
export function isCorsPreflight(request: Request): boolean {
  return (
    request.method === 'OPTIONS' &&
    request.headers.has('access-control-request-method') &&
    !request.headers.has('authorization')
  );
}

/**
 * The method a request is routed by: a preflight goes where the request it announces will go
 * (its `Access-Control-Request-Method`), so `methods: ["POST"]` covers the POST's preflight.
 */
export function routingMethod(request: Request): string {
  const method = request.method;
  if (method !== 'OPTIONS' || !isCorsPreflight(request)) return method;
  return request.headers.get('access-control-request-method') ?? method;
}
