import type { AuthResult } from '../auth/verifier.ts';

/** RFC 9110 §7.6.1: connection-specific fields a proxy must not forward. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

/** Prefix of the identity headers we set; any the client sent are removed so identity cannot be smuggled. */
export const AUTH_HEADER_PREFIX = 'x-auth-';

/**
 * The headers the origin receives: the client's, minus hop-by-hop fields (and those the
 * client's `Connection` names), minus every `X-Auth-*`, plus our identity headers when verified.
 */
export function originRequestHeaders(incoming: Headers, auth: AuthResult | null): Headers {
  const headers = new Headers(incoming);
  const named = (incoming.get('connection') ?? '').split(',').map((name) => name.trim().toLowerCase());
  for (const name of [...HOP_BY_HOP, ...named, 'host']) if (name) headers.delete(name);
  for (const name of [...headers.keys()]) if (name.startsWith(AUTH_HEADER_PREFIX)) headers.delete(name);
  if (auth) {
    // A subject outside printable ASCII cannot be a header value; the origin still has it in X-Auth-Claims.
    if (auth.subject !== undefined && /^[\x20-\x7E]*$/.test(auth.subject)) headers.set('x-auth-subject', auth.subject);
    headers.set('x-auth-claims', encodedClaims(auth.claims));
  }
  return headers;
}

/** A token served from the verified-token cache brings the same payload object: encode it once. */
const encodedByPayload = new WeakMap<object, string>();

function encodedClaims(claims: object): string {
  let encoded = encodedByPayload.get(claims);
  if (encoded === undefined) {
    encoded = base64url(JSON.stringify(claims));
    encodedByPayload.set(claims, encoded);
  }
  return encoded;
}

function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
