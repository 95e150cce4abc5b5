import { VerifierError } from '../errors.ts';
import type { PathRules, RouteConfig } from '../policy/config-model.ts';
import type { NormalizedPath } from './normalize-path.ts';
import { matchesPath, type PathPattern } from './path-pattern.ts';

/** The routes in order, their patterns compiled once for the case rule. */
export interface RouteTable<T> {
  /**
   * The first route covering `method` and the normalised `path`; throws 404 `no_route`. A path
   * holding `;` that the route does not keep is refused as unrouted too: the origin might read
   * it as another path.
   */
  match(method: string, path: NormalizedPath): T;
}

export function createRouteTable<T extends { readonly config: RouteConfig }>(
  routes: readonly T[],
  rules: PathRules,
): RouteTable<T> {
  const fold = !rules.caseSensitive;
  const compiled = routes.map((route) => ({
    route,
    methods: route.config.methods,
    pattern: route.config.path === 'any' || !fold ? route.config.path : lowerCased(route.config.path),
    keepsParameters: (route.config.pathParameters ?? rules.pathParameters) === 'keep',
  }));
  return {
    match(method, path) {
      // ASCII only: the URL parser has percent-encoded everything else.
      const candidate = fold ? path.path.toLowerCase() : path.path;
      for (const { route, methods, pattern, keepsParameters } of compiled) {
        if (methods !== undefined && !methods.includes(method)) continue;
        if (pattern !== 'any') {
          // An encoded separator may become a real one at the origin: only the catch-all takes it.
          if (path.encodedSlash || !matchesPath(pattern, candidate)) continue;
        }
        if (path.pathParameters && !keepsParameters) break;
        return route;
      }
      throw new VerifierError('no_route');
    },
  };
}

function lowerCased(pattern: PathPattern): PathPattern {
  return 'exact' in pattern ? { exact: pattern.exact.toLowerCase() } : { prefix: pattern.prefix.toLowerCase() };
}
