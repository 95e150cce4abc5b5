import type { JWSHeaderParameters } from 'jose';
import { HMAC_ALGORITHMS } from '../constants.ts';
import { ConfigError, VerifierError } from '../errors.ts';
import type { KeySource } from './key-source.ts';
import type { ResolverIo } from './remote/shared-tiers.ts';

/** What a local secret needs of the request's I/O: the Worker's secrets. */
export interface SecretIo extends ResolverIo {
  secret?(name: string): string | undefined;
}

/**
 * An issuer's shared secret (Supabase's legacy JWT secret, Hasura, in-house systems): its UTF-8
 * bytes are the HMAC key. Only HS* tokens ever reach it, and it is never used for anything else,
 * so a public key can never be mistaken for a secret (the key-confusion attack). A token's `kid`
 * selects nothing. A missing or short secret is the deployment's error (500, naming the secret,
 * never its value).
 */
export function localSecretKeys(secretName: string): KeySource {
  let held:
    | { readonly text: string; readonly generation: number; readonly keys: Map<string, Promise<CryptoKey>> }
    | undefined;
  let generation = 0;

  function current(io: SecretIo) {
    const text = io.secret?.(secretName);
    if (text === undefined) throw new ConfigError(secretName, 'is not set: the Worker secret named by hmac_secret');
    if (held?.text !== text) held = { text, generation: ++generation, keys: new Map() };
    return held;
  }

  return {
    currentVersion(io) {
      const text = (io as SecretIo).secret?.(secretName);
      if (text === undefined) return undefined;
      return `hmac:${current(io as SecretIo).generation}`;
    },
    async getKeys(header: JWSHeaderParameters, io) {
      const alg = typeof header.alg === 'string' ? HMAC_ALGORITHMS[header.alg] : undefined;
      if (alg === undefined) throw new VerifierError('alg_not_allowed');
      const secret = current(io as SecretIo);
      const bytes = new TextEncoder().encode(secret.text);
      if (bytes.length < alg.minBytes) {
        throw new ConfigError(
          secretName,
          `must hold at least ${alg.minBytes} bytes for ${header.alg} (RFC 7518 §3.2): a shorter key is the weak link`,
        );
      }
      let key = secret.keys.get(header.alg as string);
      if (!key) {
        key = crypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: alg.hash }, false, ['verify']);
        secret.keys.set(header.alg as string, key);
      }
      return [await key];
    },
    async refresh() {
      // Nothing to fetch: the secret is read per request.
    },
  };
}

/**
 * An issuer's keys by algorithm: HS* from its shared secret only, every other algorithm from its
 * JWKS only (RFC 8725 §3.1: one algorithm, one kind of key). An issuer with no asymmetric
 * algorithm has no JWKS and fetches nothing.
 */
export function keysByAlgorithm(remote: KeySource | undefined, local: KeySource): KeySource {
  return {
    currentVersion(io) {
      const localVersion = local.currentVersion(io);
      return remote ? `${remote.currentVersion(io) ?? ''}|${localVersion ?? ''}` : localVersion;
    },
    getKeys(header, io, decision) {
      if (typeof header.alg === 'string' && Object.hasOwn(HMAC_ALGORITHMS, header.alg)) {
        return local.getKeys(header, io, decision);
      }
      if (!remote) throw new VerifierError('alg_not_allowed');
      return remote.getKeys(header, io, decision);
    },
    async refresh(io) {
      await remote?.refresh(io);
    },
  };
}
