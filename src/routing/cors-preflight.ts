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
