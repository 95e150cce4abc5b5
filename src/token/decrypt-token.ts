import { compactDecrypt, importJWK, type JWK } from 'jose';
import { DECRYPTED_TOKEN_CACHE_MAX_ENTRIES, MAX_KIDLESS_CANDIDATE_KEYS } from '../constants.ts';
import { ConfigError, VerifierError } from '../errors.ts';
import { normalizeTokenType } from '../policy/values.ts';

/**
 * Key management for encrypted tokens: RSA-OAEP with SHA-256 and ECDH-ES (direct or with AES key
 * wrap). Never RSA1_5 (padding oracles), PBES2 (a password as a key, and a hostile `p2c` costs
 * unbounded CPU), `dir` (a shared secret) or AES key wrap alone.
 */
const KEY_MANAGEMENT: readonly string[] = ['RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A256KW'];
const CONTENT_ENCRYPTION: readonly string[] = ['A128GCM', 'A256GCM'];

/**
 * The `cty` of a nested token (RFC 7519 §5.2 `JWT`; oidc-provider writes `at+jwt`, RFC 9068),
 * compared as media types are: case-insensitive, `application/` optional.
 */
const NESTED_TOKEN_TYPES: readonly string[] = ['jwt', 'at+jwt'];

/**
 * What an encrypted token's protected header must say before any key is looked up or any
 * decryption is tried: an allowed `alg` and `enc`, no `zip` (a compressed plaintext can be a
 * decompression bomb, and its size a length oracle), `cty` `JWT` (a nested JWT, RFC 7519 §5.2:
 * the plaintext is the signed token), no `crit`.
 */
export function checkJweHeader(header: Readonly<Record<string, unknown>>): { alg: string; kid: string | undefined } {
  const { alg, enc, cty, kid } = header;
  if (typeof alg !== 'string' || !KEY_MANAGEMENT.includes(alg)) throw new VerifierError('encryption_not_allowed');
  if (typeof enc !== 'string' || !CONTENT_ENCRYPTION.includes(enc)) throw new VerifierError('encryption_not_allowed');
  if ('zip' in header || 'crit' in header) throw new VerifierError('encryption_not_allowed');
  if (typeof cty !== 'string' || !NESTED_TOKEN_TYPES.includes(normalizeTokenType(cty))) {
    throw new VerifierError('encryption_not_allowed');
  }
  if (kid !== undefined && typeof kid !== 'string') throw new VerifierError('decryption_failed');
  return { alg, kid };
}

/** One issuer's decryption keys, from the JWKS text of its secret. */
export interface DecryptionKeys {
  /** The nested token's text, decrypted with the key the header names (or each key that fits, without a `kid`). */
  decrypt(token: string, alg: string, kid: string | undefined): Promise<string>;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses the secret once (its problems are the deployment's: `config_invalid`, naming the secret,
 * never its content) and imports each (key, alg) pair once. A token it decrypted is remembered
 * (at most `DECRYPTED_TOKEN_CACHE_MAX_ENTRIES`, the oldest dropped first): a token is sent again
 * and again, and a decryption is a private-key operation. The memory goes with these keys, so a
 * key dropped from the secret decrypts nothing more, not even from memory.
 */
export function parseDecryptionKeys(secretName: string, text: string): DecryptionKeys {
  const keys = privateKeysOf(secretName, text);
  const decrypted = new Map<string, string>();
  const imported = new Map<string, Promise<CryptoKey>>();
  const importedFor = (jwk: JWK, index: number, alg: string) => {
    const id = `${index} ${alg}`;
    let key = imported.get(id);
    if (!key) {
      key = importJWK(jwk, alg) as Promise<CryptoKey>;
      imported.set(id, key);
    }
    return key;
  };
  return {
    async decrypt(token, alg, kid) {
      const known = decrypted.get(token);
      if (known !== undefined) return known;
      const inner = await decryptWith(token, alg, kid);
      if (decrypted.size >= DECRYPTED_TOKEN_CACHE_MAX_ENTRIES)
        decrypted.delete(decrypted.keys().next().value as string);
      decrypted.set(token, inner);
      return inner;
    },
  };

  async function decryptWith(token: string, alg: string, kid: string | undefined): Promise<string> {
    const candidates = keys
      .map((jwk, index) => ({ jwk, index }))
      .filter(({ jwk }) => (kid === undefined || jwk.kid === kid) && fitsKeyManagement(jwk, alg));
    if (candidates.length === 0 || candidates.length > MAX_KIDLESS_CANDIDATE_KEYS) {
      throw new VerifierError('decryption_failed');
    }
    for (const { jwk, index } of candidates) {
      try {
        const key = await importedFor(jwk, index, alg);
        const { plaintext } = await compactDecrypt(token, key, {
          keyManagementAlgorithms: [...KEY_MANAGEMENT],
          contentEncryptionAlgorithms: [...CONTENT_ENCRYPTION],
        });
        return STRICT_UTF8.decode(plaintext);
      } catch {
        // The next candidate, if any: a kid-less token is tried against each key that fits.
      }
    }
    throw new VerifierError('decryption_failed');
  }
}

function privateKeysOf(secretName: string, text: string): JWK[] {
  const invalid = () => new ConfigError(secretName, 'must hold a JWKS of private decryption keys');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalid();
  }
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw invalid();
  for (const key of keys) {
    const jwk = key as JWK;
    if (typeof jwk !== 'object' || jwk === null || typeof jwk.d !== 'string') throw invalid();
    if (jwk.kty !== 'RSA' && jwk.kty !== 'EC' && jwk.kty !== 'OKP') throw invalid();
  }
  return keys as JWK[];
}

function fitsKeyManagement(jwk: JWK, alg: string): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (jwk.use !== undefined && jwk.use !== 'enc') return false;
  return alg === 'RSA-OAEP-256' ? jwk.kty === 'RSA' : jwk.kty === 'EC' || jwk.kty === 'OKP';
}
