import { MAX_TOKEN_LENGTH_BYTES } from '../constants.ts';
import { VerifierError } from '../errors.ts';

/** RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** RFC 9110 §5.6.2 token characters, for the auth-scheme. */
const SCHEME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

import type { Credentials, TokenSource } from './token-source.ts';

/**
 * Reads the credentials from an `Authorization` header value (`null` when absent): `Bearer`
 * (RFC 6750) or `DPoP` (RFC 9449 §7.1), whose token grammar is the same; checked by
 * `isB64token` (see there for why not here). The scheme is case-insensitive (RFC 9110 §11.1).
 * `Headers` joins repeated headers with ", ", and a b64token can hold neither a comma nor a
 * space, so two values are caught here too.
 */
export function extractCredentials(authorization: string | null): Credentials {
  if (authorization === null) throw new VerifierError('missing_token');
  // Refuse an oversized header before any regex runs over it.
  if (authorization.length > MAX_TOKEN_LENGTH_BYTES + 64) throw new VerifierError('token_too_large');
  const value = authorization.trim();
  const space = value.indexOf(' ');
  const name = space < 0 ? value : value.slice(0, space);
  if (!SCHEME.test(name)) throw new VerifierError('malformed_authorization');
  const lower = name.toLowerCase();
  if (lower !== 'bearer' && lower !== 'dpop') {
    if (/,\s*(?:bearer|dpop)\b/i.test(value)) throw new VerifierError('malformed_authorization');
    throw new VerifierError('unsupported_scheme');
  }
  let start = space;
  while (start >= 0 && value.charCodeAt(start) === 0x20) start++;
  const credentials = start < 0 ? '' : value.slice(start);
  if (credentials.length === 0) throw new VerifierError('malformed_authorization');
  if (credentials.length > MAX_TOKEN_LENGTH_BYTES) throw new VerifierError('token_too_large');
  return { scheme: lower, token: credentials, source: authorizationSource };
}

/**
 * Whether credentials fit RFC 6750's b64token grammar. A value that does not is a malformed
 * Authorization header (400), not a bad token (401). Every well-formed JWS is a b64token, so the
 * verifier asks only once a token has failed its shape check, and the success path never
 * scans the token for it.
 */
export function isB64token(credentials: string): boolean {
  return B64TOKEN.test(credentials);
}

/** RFC 6750 §2.1: `Authorization: Bearer <token>`, or `DPoP <token>` (RFC 9449 §7.1). */
export const authorizationSource: TokenSource = {
  label: 'authorization',
  header: 'authorization',
  read(request) {
    const authorization = request.headers.get('authorization');
    return authorization === null ? undefined : extractCredentials(authorization);
  },
  strip(headers) {
    headers.delete('authorization');
  },
};
