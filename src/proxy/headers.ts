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
 * Runs on every request, so it reads the client's headers once and hands `fetch` a plain list:
 * each call into `Headers` (has, delete, set) costs more than the JavaScript around it.
 */
export function originRequestHeaders(incoming: Headers, auth: AuthResult | null): [string, string][] {
  let forwarded: [string, string][] = [];
  let connection: string | undefined;
  for (const entry of incoming) {
    const name = entry[0];
    if (name === 'connection') connection = entry[1];
    if (!NOT_FORWARDED.has(name) && !name.startsWith(AUTH_HEADER_PREFIX)) forwarded.push(entry);
  }
  if (connection !== undefined) {
    const listed = new Set(connection.split(',').map((name) => name.trim().toLowerCase()));
    forwarded = forwarded.filter(([name]) => !listed.has(name));
  }
  if (auth) {
    if (auth.subject !== undefined && HEADER_SAFE.test(auth.subject)) forwarded.push(['x-auth-subject', auth.subject]);
    forwarded.push(['x-auth-claims', auth.encodedClaims]);
  }
  return forwarded;
}
