import { importJWK, type JWK, type JWSHeaderParameters } from 'jose';
import { keyFitsAlgorithm } from './key-policy.ts';

export interface KeyIndex {
  /** The key for this header, or `undefined` when none fits (the caller may refresh). */
  find(header: JWSHeaderParameters): Promise<CryptoKey | undefined>;
}

/**
 * Looks keys up by `kid` and imports each (key, alg) pair once, so the hot path is a map
 * lookup with no JSON parsing and no `importKey`. Only `kid` and `alg` of the header are read:
 * `jku`, `x5u`, `jwk` and `x5c` never select a key (RFC 8725 §3.10).
 */
export function createKeyIndex(keys: readonly JWK[]): KeyIndex {
  const byKid = new Map<string, JWK[]>();
  for (const jwk of keys) {
    if (jwk.kid === undefined) continue;
    const list = byKid.get(jwk.kid);
    if (list) list.push(jwk);
    else byKid.set(jwk.kid, [jwk]);
  }
  const imported = new Map<JWK, Map<string, Promise<CryptoKey>>>();

  return {
    find(header) {
      const { alg, kid } = header;
      if (typeof alg !== 'string') return Promise.resolve(undefined);
      // Without a kid, a key is chosen only when exactly one fits: guessing among several
      // would make verification depend on key order.
      const candidates = typeof kid === 'string' ? byKid.get(kid) : kid === undefined ? keys : undefined;
      const fitting = candidates?.filter((jwk) => keyFitsAlgorithm(jwk, alg)) ?? [];
      const jwk = fitting[0];
      if (jwk === undefined || (kid === undefined && fitting.length > 1)) return Promise.resolve(undefined);
      let perAlg = imported.get(jwk);
      if (!perAlg) {
        perAlg = new Map();
        imported.set(jwk, perAlg);
      }
      let key = perAlg.get(alg);
      if (!key) {
        key = importJWK(jwk, alg) as Promise<CryptoKey>;
        perAlg.set(alg, key);
        // A key the runtime refuses to import must not be cached as a rejected promise forever.
        key.catch(() => perAlg.delete(alg));
      }
      return key;
    },
  };
}
