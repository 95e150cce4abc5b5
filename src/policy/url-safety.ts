const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether a URL names this machine, where plain http cannot be intercepted on the wire. */
export function isLoopback(url: URL): boolean {
  return LOOPBACK_HOSTS.has(url.hostname) || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}

/**
 * Keys fetched over plain http could be swapped by anyone on the path, which would let them
 * mint tokens we accept; only loopback (local development) may use http.
 */
export function isSafeKeySourceUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url));
}
