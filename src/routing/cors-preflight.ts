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
