import type { JWK } from 'jose';
import { JWKS_MAX_KEYS } from '../../constants.ts';
import type { Logger } from '../../observe/log.ts';
import { unusableKeyReason } from './key-policy.ts';
import { KeySourceError } from './key-source-error.ts';

/**
 * Checks a JWKS document's shape (RFC 7517 §5) and keeps the usable public keys, each reduced
 * to its public members and its `issuer`. A set with no usable key is refused as a whole: replacing good
 * cached keys with nothing would lock every user out.
 */
export function parseJwks(body: unknown, log: Logger): JWK[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new KeySourceError('JWKS is not a JSON object');
  }
  const keys = (body as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new KeySourceError('JWKS has no keys array');
  if (keys.length > JWKS_MAX_KEYS) throw new KeySourceError(`JWKS has more than ${JWKS_MAX_KEYS} keys`);
  const usable: JWK[] = [];
  keys.forEach((candidate: unknown, index) => {
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
      log('jwks_key_skipped', { index, reason: 'key is not an object' });
      return;
    }
    const jwk = candidate as JWK;
    const reason = unusableKeyReason(jwk);
    if (reason) {
      log('jwks_key_skipped', { index, reason });
      return;
    }
    usable.push(publicMembers(jwk));
  });
  if (usable.length === 0) throw new KeySourceError('JWKS has no usable signing key');
  return usable;
}

/**
 * The members a key is used by: its public parameters, and the `issuer` a key may name (Microsoft
 * Entra's keys do, with `{tenantid}`): such a key verifies only that issuer's tokens.
 */
function publicMembers(jwk: JWK): JWK {
  const { kty, kid, alg, crv, n, e, x, y } = jwk;
  const { issuer } = jwk as { issuer?: unknown };
  return Object.fromEntries(
    Object.entries({ kty, kid, alg, crv, n, e, x, y, issuer }).filter(([, value]) => value !== undefined),
  ) as JWK;
}
