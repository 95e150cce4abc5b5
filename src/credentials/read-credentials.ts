import { VerifierError } from '../errors.ts';
import type { Credentials, TokenSource } from './token-source.ts';

/** Methods a browser's cross-site form or navigation may send without meaning to change anything. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The request's token from the route's sources, or `undefined` when it carries none. RFC 6750 §2:
 * one method only, so the same token in several sources (Cloudflare Access sends the header and
 * the cookie) is one token, and different tokens are refused (400 `multiple_tokens`). The
 * `access_token` query parameter, where no source reads it, may not stand beside a token either.
 * A token that only a cookie carried, on a state-changing request a browser says is cross-site
 * (`Sec-Fetch-Site: cross-site`), is refused (403 `cross_site_cookie`): browsers attach cookies to
 * cross-site requests, so the cookie alone is no proof the caller meant to send it.
 */
export function readCredentials(
  sources: readonly TokenSource[],
  cookieSources: ReadonlySet<TokenSource>,
  request: Request,
  url: URL,
  readsAccessTokenParameter: boolean,
): Credentials | undefined {
  let found: Credentials | undefined;
  let onlyCookies = true;
  for (const source of sources) {
    const read = source.read(request, url);
    if (read === undefined) continue;
    if (found !== undefined && found.token !== read.token) throw new VerifierError('multiple_tokens');
    found ??= read;
    if (!cookieSources.has(source)) onlyCookies = false;
  }
  if (found === undefined) return undefined;
  if (!readsAccessTokenParameter && url.search && url.searchParams.has('access_token')) {
    throw new VerifierError('malformed_authorization');
  }
  if (
    onlyCookies &&
    !SAFE_METHODS.has(request.method) &&
    request.headers.get('sec-fetch-site')?.trim().toLowerCase() === 'cross-site'
  ) {
    throw new VerifierError('cross_site_cookie');
  }
  return found;
}
