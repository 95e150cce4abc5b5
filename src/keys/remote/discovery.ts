import { DISCOVERY_MAX_SIZE_BYTES, JWKS_FETCH_TIMEOUT_MS } from '../../constants.ts';
import { isSafeKeySourceUrl } from '../../policy/url-safety.ts';
import { fetchJson } from './fetch-json.ts';
import { KeySourceError } from './key-source-error.ts';

/** Where an issuer's metadata may live: OpenID Connect Discovery §4, then RFC 8414 §3. */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  return [
    `${url.origin}${path}/.well-known/openid-configuration`,
    // RFC 8414 §3.1 puts the well-known segment before the issuer's path.
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

/**
 * Finds `jwks_uri` in the issuer's metadata. The document must name the same issuer
 * (OIDC Discovery §4.3, RFC 8414 §3.3), or anyone who can serve that path could choose our keys.
 */
export function discoverJwksUri(issuer: string, doFetch?: typeof fetch): Promise<string> {
  return discoverEndpoint(issuer, 'jwks_uri', doFetch);
}

/** An endpoint the issuer's metadata names (`jwks_uri`, `introspection_endpoint`), held to the same rules. */
export async function discoverEndpoint(issuer: string, member: string, doFetch?: typeof fetch): Promise<string> {
  let lastError: unknown;
  for (const url of metadataUrls(issuer)) {
    try {
      const { body } = await fetchJson(url, {
        timeoutMs: JWKS_FETCH_TIMEOUT_MS,
        maxBytes: DISCOVERY_MAX_SIZE_BYTES,
        ...(doFetch ? { fetch: doFetch } : {}),
      });
      const metadata = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      if (metadata.issuer !== issuer) throw new KeySourceError('metadata names another issuer');
      const endpoint = metadata[member];
      if (typeof endpoint !== 'string') throw new KeySourceError(`metadata has no ${member}`);
      let parsed: URL;
      try {
        parsed = new URL(endpoint);
      } catch {
        throw new KeySourceError(`${member} is not a URL`);
      }
      if (!isSafeKeySourceUrl(parsed)) throw new KeySourceError(`${member} is not https`);
      return parsed.href;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError instanceof KeySourceError ? lastError : new KeySourceError('discovery failed', { cause: lastError });
}
