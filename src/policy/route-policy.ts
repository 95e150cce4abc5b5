import { matchesPath, type PathPattern } from './path-pattern.ts';

/** What a route demands of a request. */
export type RouteRule =
  | { readonly path: PathPattern | 'any'; readonly access: 'public' }
  | {
      readonly path: PathPattern | 'any';
      readonly access: 'required';
      /** Index into `Config.issuers` of the issuer whose tokens this route accepts. */
      readonly issuer: number;
      readonly requiredScopes: readonly string[];
    };

/** The first rule whose path matches decides; a request no rule matches is refused by the caller. */
export function findRule(rules: readonly RouteRule[], pathname: string): RouteRule | undefined {
  return rules.find((rule) => rule.path === 'any' || matchesPath(rule.path, pathname));
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
