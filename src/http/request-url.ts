/**
 * A request's URL, parsed once per request: the route policy reads the path, the proxy builds
 * the origin URL from it, and parsing is one of the larger costs left on a request that skips
 * the crypto. The parsed URL is never changed by either.
 */
const parsed = new WeakMap<Request, URL>();

export function requestUrl(request: Request): URL {
  let url = parsed.get(request);
  if (!url) {
    url = new URL(request.url);
    parsed.set(request, url);
  }
  return url;
}
