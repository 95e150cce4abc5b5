import { importJWK, type JWK, type JWSHeaderParameters } from 'jose';
import { MAX_KIDLESS_CANDIDATE_KEYS } from '../../constants.ts';
import { noteKeyIssuer } from '../key-issuer.ts';
import { keyFitsAlgorithm } from './key-policy.ts';

export interface KeyIndex {
  /**
   * The keys that may verify a token with this header, each imported for its `alg`, in the
   * JWKS's order; `undefined` when none fits (the caller may refresh). With a `kid`, the first
   * key of that `kid` that fits; without one, every key that fits, at most
   * `MAX_KIDLESS_CANDIDATE_KEYS` (more is `undefined`: a forged kid-less token must stay cheap).
   */
  find(header: JWSHeaderParameters): Promise<readonly CryptoKey[]> | undefined;
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
  /** Per key and alg: the import, settled once; a rejected import is forgotten so a later lookup retries it. */
  const imported = new Map<JWK, Map<string, Promise<readonly CryptoKey[]>>>();

  function importedFor(jwk: JWK, alg: string): Promise<readonly CryptoKey[]> {
    let perAlg = imported.get(jwk);
    if (!perAlg) {
      perAlg = new Map();
      imported.set(jwk, perAlg);
    }
    let key = perAlg.get(alg);
    if (!key) {
      // One array per (key, alg), built once: a lookup with a kid allocates nothing.
      key = (importJWK(jwk, alg) as Promise<CryptoKey>).then((cryptoKey) => {
        noteKeyIssuer(cryptoKey, (jwk as { issuer?: unknown }).issuer);
        return [cryptoKey];
      });
      perAlg.set(alg, key);
      const forget = perAlg;
      key.catch(() => forget.delete(alg));
    }
    return key;
  }

  return {
    find(header) {
      const { alg, kid } = header;
      if (typeof alg !== 'string') return undefined;
      if (typeof kid === 'string') {
        const jwk = byKid.get(kid)?.find((candidate) => keyFitsAlgorithm(candidate, alg));
        return jwk === undefined ? undefined : importedFor(jwk, alg);
      }
      if (kid !== undefined) return undefined;
      // Without a kid, try each key that fits, as Envoy and Google's jwt_verify_lib do.
      const fitting = keys.filter((jwk) => keyFitsAlgorithm(jwk, alg));
      if (fitting.length === 0 || fitting.length > MAX_KIDLESS_CANDIDATE_KEYS) return undefined;
      if (fitting.length === 1) return importedFor(fitting[0] as JWK, alg);
      return Promise.all(fitting.map((jwk) => importedFor(jwk, alg))).then((lists) => lists.flat());
    },
  };
}
