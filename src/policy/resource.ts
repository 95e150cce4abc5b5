import { ConfigError } from '../errors.ts';
import type { ResourceConfig } from './config-model.ts';
import { isLoopback } from './url-safety.ts';
import { parseUrl } from './values.ts';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/**
 * RFC 9728 §3.1: the metadata lives at the well-known path inserted between the resource's host
 * and its path (`https://api.example.com/v1` → `/.well-known/oauth-protected-resource/v1`).
 * `name` is what an error names (RESOURCE or POLICY.resource.resource).
 */
export function parseResource(
  name: string,
  resource: string,
  authorizationServers: readonly string[],
  scopesSupported: readonly string[] | undefined,
): ResourceConfig {
  const url = parseUrl(name, resource);
  // RFC 9728 §1.2: an https URL without a fragment (and, we require, without a query).
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url))) {
    throw new ConfigError(name, 'must be an https URL (http is allowed only on loopback hosts)');
  }
  // A bare `?` or `#` leaves search and hash empty, so look at the text.
  if (/[?#]/.test(resource)) throw new ConfigError(name, 'must not have a query or fragment');
  if (url.username || url.password) throw new ConfigError(name, 'must not hold credentials');
  const metadataPath = WELL_KNOWN + (url.pathname === '/' ? '' : url.pathname);
  return {
    resource,
    metadataPath,
    metadataUrl: `${url.origin}${metadataPath}`,
    authorizationServers,
    scopesSupported,
  };
}
