import { MAX_TOKEN_LENGTH_BYTES } from '../constants.ts';
import { VerifierError } from '../errors.ts';
import type { TokenSource } from './token-source.ts';

/**
 * A token in a query parameter (RFC 6750 §2.3; browsers' WebSockets, EventSource and download
 * links cannot set a header). Discouraged: a URL ends up in logs and browser history, so the
 * parameter never reaches the origin (the verifier takes it out of the URL it forwards).
 */
export function querySource(name: string): TokenSource {
  const source: TokenSource = {
    label: `query:${name}`,
    read(_request, url) {
      if (!url.search) return undefined;
      const values = url.searchParams.getAll(name);
      if (values.length === 0) return undefined;
      const token = values[0] as string;
      if (values.some((value) => value !== token)) throw new VerifierError('multiple_tokens');
      if (token.length > MAX_TOKEN_LENGTH_BYTES) throw new VerifierError('token_too_large');
      if (token === '' || /\s/.test(token)) throw new VerifierError('malformed_authorization');
      return { scheme: 'bearer', token, source };
    },
    strip() {
      // Never in a header: the forwarded URL is built without the parameter (`withoutQueryTokens`).
    },
  };
  return source;
}

/** The URL the origin receives, without the query parameters that carry tokens. */
export function withoutQueryTokens(url: URL, names: readonly string[]): URL {
  if (names.length === 0 || !url.search || !names.some((name) => url.searchParams.has(name))) return url;
  const stripped = new URL(url);
  for (const name of names) stripped.searchParams.delete(name);
  return stripped;
}
