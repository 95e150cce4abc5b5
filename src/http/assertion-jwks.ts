import type { JWK } from 'jose';
import { IDENTITY_ASSERTION_JWKS_MAX_AGE_SECONDS } from '../constants.ts';

/**
 * The identity assertion's JWKS (RFC 7517 §5): the public keys origins verify the assertion
 * with. Public and cacheable like any issuer's JWKS; answered by the gateway, never forwarded.
 */
export function assertionJwksResponse(keys: readonly JWK[], method: 'GET' | 'HEAD'): Response {
  return new Response(method === 'HEAD' ? null : JSON.stringify({ keys }), {
    headers: {
      'content-type': 'application/jwk-set+json',
      'cache-control': `public, max-age=${IDENTITY_ASSERTION_JWKS_MAX_AGE_SECONDS}`,
    },
  });
}
