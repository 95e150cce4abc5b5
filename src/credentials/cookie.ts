import { MAX_TOKEN_LENGTH_BYTES } from '../constants.ts';
import { VerifierError } from '../errors.ts';
import type { TokenSource } from './token-source.ts';

/**
 * A token in a cookie (Cloudflare Access's `CF_Authorization`, Envoy's `from_cookies`). An empty
 * cookie is no token (a signed-out browser keeps the name); the same name twice with different
 * values is two tokens. A quoted value (RFC 6265 §4.1.1) is read without its quotes.
 */
export function cookieSource(name: string): TokenSource {
  const source: TokenSource = {
    label: `cookie:${name}`,
    read(request) {
      const header = request.headers.get('cookie');
      if (header === null) return undefined;
      let token: string | undefined;
      for (const value of cookieValues(header, name)) {
        if (value === '') continue;
        if (token !== undefined && token !== value) throw new VerifierError('multiple_tokens');
        token = value;
      }
      if (token === undefined) return undefined;
      if (token.length > MAX_TOKEN_LENGTH_BYTES) throw new VerifierError('token_too_large');
      return { scheme: 'bearer', token, source };
    },
    strip(headers) {
      const header = headers.get('cookie');
      if (header === null) return;
      const kept = header
        .split(';')
        .filter((pair) => pair.split('=', 1)[0]?.trim() !== name)
        .map((pair) => pair.trim())
        .filter((pair) => pair !== '');
      if (kept.length === 0) headers.delete('cookie');
      else headers.set('cookie', kept.join('; '));
    },
  };
  return source;
}

/** Every value of the named cookie in a `Cookie` header (several `Cookie` fields arrive joined). */
function cookieValues(header: string, name: string): string[] {
  const values: string[] = [];
  for (const pair of header.split(/[;,]/)) {
    const equals = pair.indexOf('=');
    if (equals < 0 || pair.slice(0, equals).trim() !== name) continue;
    const raw = pair.slice(equals + 1).trim();
    values.push(raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw);
  }
  return values;
}
