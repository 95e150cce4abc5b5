import type { AuthResult } from '../auth/verifier.ts';

/** RFC 9110 §7.6.1: connection-specific fields a proxy must not forward; `host` is the origin's own. */
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** Prefix of the identity headers we set; any the client sent are removed so identity cannot be smuggled. */
export const AUTH_HEADER_PREFIX = 'x-auth-';

/** A subject outside printable ASCII cannot be a header value; the origin still has it in X-Auth-Claims. */
const HEADER_SAFE = /^[\x20-\x7E]*$/;

/**
 * The headers the origin receives: the client's, minus hop-by-hop fields (and those the
 * client's `Connection` names), minus every `X-Auth-*`, plus our identity headers when verified.
 * Runs on every request: one copy, then deletes only for names the request actually has.
 */
export function originRequestHeaders(incoming: Headers, auth: AuthResult | null): Headers {
  const headers = new Headers(incoming);
  let hasConnection = false;
  for (const name of incoming.keys()) {
    if (name === 'connection') hasConnection = true;
    if (NOT_FORWARDED.has(name) || name.startsWith(AUTH_HEADER_PREFIX)) headers.delete(name);
  }
  if (hasConnection) {
    for (const listed of (incoming.get('connection') ?? '').split(',')) {
      const name = listed.trim().toLowerCase();
      if (name) headers.delete(name);
    }
  }
  if (auth) {
    if (auth.subject !== undefined && HEADER_SAFE.test(auth.subject)) headers.set('x-auth-subject', auth.subject);
    headers.set('x-auth-claims', auth.encodedClaims);
  }
  return headers;
}
