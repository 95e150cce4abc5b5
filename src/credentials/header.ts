import { MAX_TOKEN_LENGTH_BYTES } from '../constants.ts';
import { VerifierError } from '../errors.ts';
import type { TokenSource } from './token-source.ts';

/**
 * A token that is the whole value of a header (Cloudflare Access's `Cf-Access-Jwt-Assertion`,
 * Envoy's `from_headers`, hono/jwk's `headerName`). `Headers` joins repeated fields with ", ",
 * which no token holds, so two values are refused as two tokens.
 */
export function headerSource(name: string): TokenSource {
  const source: TokenSource = {
    label: `header:${name}`,
    header: name,
    read(request) {
      const value = request.headers.get(name);
      if (value === null) return undefined;
      const token = value.trim();
      if (token.length > MAX_TOKEN_LENGTH_BYTES) throw new VerifierError('token_too_large');
      if (token === '' || /[\s,]/.test(token)) throw new VerifierError('malformed_authorization');
      return { scheme: 'bearer', token, source };
    },
    strip(headers) {
      headers.delete(name);
    },
  };
  return source;
}
