import type { ResourceConfig } from '../config.ts';
import { RESOURCE_METADATA_MAX_AGE_SECONDS } from '../constants.ts';

/** The protected-resource metadata document (RFC 9728 §2): public, cacheable, never forwarded. */
export function resourceMetadataResponse(resource: ResourceConfig, method: string): Response {
  const body = JSON.stringify({
    resource: resource.resource,
    authorization_servers: resource.authorizationServers,
    ...(resource.scopesSupported ? { scopes_supported: resource.scopesSupported } : {}),
    bearer_methods_supported: ['header'],
  });
  return new Response(method === 'HEAD' ? null : body, {
    headers: {
      'content-type': 'application/json',
      'cache-control': `max-age=${RESOURCE_METADATA_MAX_AGE_SECONDS}`,
    },
  });
}
