/**
 * The identity assertion's signing keys: a Worker secret holding a JWK Set of private keys, EC
 * P-256 (ES256) or Ed25519 (EdDSA), each with a `kid`. The first signs; the others are published
 * only, so a key can be announced before it signs and kept after it stops. Only these two
 * families: small keys and signatures, fast to sign on every new token, and every JWT library
 * an origin may use verifies both. Problems name the secret and the key's position, never a
 * value from it.
 */
import type { JWK } from 'jose';
import { ConfigError } from '../errors.ts';
import { readSecret, secretParser } from '../worker/secrets.ts';

/** The JWS algorithm each accepted key family signs with (RFC 7518 §3.4, RFC 8037 §3.1). */
const FAMILIES = {
  'EC P-256': {
    alg: 'ES256',
    import: { name: 'ECDSA', namedCurve: 'P-256' },
    sign: { name: 'ECDSA', hash: 'SHA-256' },
  },
  'OKP Ed25519': { alg: 'EdDSA', import: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
} as const;
type Family = (typeof FAMILIES)[keyof typeof FAMILIES];

/** The key that signs, imported for signing only and never extractable. */
export interface AssertionSigningKey {
  readonly kid: string;
  readonly alg: Family['alg'];
  readonly key: CryptoKey;
}

/** One secret's keys: the first, ready to sign, and the public half of every one, in order. */
export interface AssertionKeys {
  readonly signing: AssertionSigningKey;
  /** `kty`, `crv`, `x` (and `y`), `kid`, `alg`, `use`: built member by member, so no private member can slip in. */
  readonly publicKeys: readonly JWK[];
}

const WHAT = 'must be a JWK Set of private EC P-256 or Ed25519 keys, each with a kid';

/**
 * A secret's text as keys. The shape is checked at once (a `ConfigError` thrown here); the
 * imports are asynchronous, and a key whose public members are not its private key's fails too:
 * the origin would refuse every assertion it signed.
 */
export function parseAssertionKeys(secretName: string, text: string): Promise<AssertionKeys> {
  return importKeys(
    checkAssertionKeys(secretName, text),
    (detail) => new ConfigError(secretName, `${WHAT}: ${detail}`),
  );
}

/**
 * The keys' shape, without importing them: each one's family and `kid`, the first the signer.
 * Throws `ConfigError` naming the secret and the key's position. `npm run check-config` runs
 * this on a secret it can read.
 */
export function checkAssertionKeys(secretName: string, text: string): readonly CheckedKey[] {
  const problem = (detail: string) => new ConfigError(secretName, `${WHAT}: ${detail}`);
  let set: unknown;
  try {
    set = JSON.parse(text);
  } catch {
    throw problem('it is not JSON');
  }
  const keys = (set as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw problem('it has no "keys" array with a key in it');
  const kids = new Set<string>();
  return keys.map((jwk: unknown, i) => {
    const key = checkKey(jwk, (detail) => problem(`key ${i + 1} ${detail}`));
    if (kids.has(key.kid)) throw problem(`key ${i + 1} has the kid of an earlier key`);
    kids.add(key.kid);
    return key;
  });
}

/** One key of the secret, its shape checked. */
export interface CheckedKey {
  readonly kid: string;
  readonly family: Family;
  readonly jwk: Readonly<Record<string, unknown>>;
  readonly publicJwk: JWK;
}

function checkKey(value: unknown, problem: (detail: string) => ConfigError): CheckedKey {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw problem('is not a JSON object');
  const jwk = value as Record<string, unknown>;
  if (jwk.kty === 'RSA') throw problem('is an RSA key: only EC P-256 (ES256) and Ed25519 (EdDSA) keys sign');
  const family = FAMILIES[`${String(jwk.kty)} ${String(jwk.crv)}` as keyof typeof FAMILIES];
  if (family === undefined) throw problem('is neither an EC P-256 nor an Ed25519 key');
  if (typeof jwk.d !== 'string') throw problem('is a public key: the secret holds the private keys');
  if (typeof jwk.kid !== 'string' || jwk.kid === '') throw problem('has no kid');
  if (jwk.alg !== undefined && jwk.alg !== family.alg) throw problem(`has an alg other than ${family.alg}`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw problem('has a use other than sig');
  const publicJwk: JWK =
    family.alg === 'ES256'
      ? { kty: 'EC', crv: 'P-256', x: jwk.x as string, y: jwk.y as string }
      : { kty: 'OKP', crv: 'Ed25519', x: jwk.x as string };
  return { kid: jwk.kid, family, jwk, publicJwk: { ...publicJwk, kid: jwk.kid, alg: family.alg, use: 'sig' } };
}

/** Each key imported, and shown to pair with its public half by signing and verifying a probe. */
async function importKeys(
  keys: readonly CheckedKey[],
  problem: (detail: string) => ConfigError,
): Promise<AssertionKeys> {
  const probe = new TextEncoder().encode('edge-verifier identity assertion key check');
  const imported = await Promise.all(
    keys.map(async ({ kid, family, jwk, publicJwk }, i) => {
      const { alg: _alg, use: _use, kid: _kid, ...members } = publicJwk;
      try {
        const privateKey = await crypto.subtle.importKey(
          'jwk',
          { ...members, d: jwk.d } as JsonWebKey,
          family.import,
          false,
          ['sign'],
        );
        const publicKey = await crypto.subtle.importKey('jwk', members as JsonWebKey, family.import, false, ['verify']);
        const signature = await crypto.subtle.sign(family.sign, privateKey, probe);
        if (!(await crypto.subtle.verify(family.sign, publicKey, signature, probe))) throw new Error('mismatch');
        return { kid, alg: family.alg, key: privateKey };
      } catch {
        throw problem(
          `key ${i + 1} is not a usable key pair (its public members do not match its private key, or a member is malformed)`,
        );
      }
    }),
  );
  return { signing: imported[0] as AssertionSigningKey, publicKeys: keys.map((key) => key.publicJwk) };
}

/**
 * The keys in the secret `secretName`, parsed once per value (a rotated secret is parsed again):
 * a promise while the first import runs, the keys themselves once it has, so a request that
 * finds them ready does not wait a turn of the event loop. A missing secret refuses the request
 * (500) rather than forwarding it without the assertion.
 */
export function assertionKeysReader(secretName: string): (env: unknown) => AssertionKeys | Promise<AssertionKeys> {
  const keysOf = secretParser((text) => {
    const parsed: { keys?: AssertionKeys; readonly pending: Promise<AssertionKeys> } = {
      pending: parseAssertionKeys(secretName, text),
    };
    parsed.pending.then(
      (keys) => {
        parsed.keys = keys;
      },
      // Each request awaiting `pending` is refused with the error itself.
      () => {},
    );
    return parsed;
  });
  return (env) => {
    const text = readSecret(env, secretName);
    if (text === undefined)
      throw new ConfigError(secretName, `${WHAT}: it is not set (npx wrangler secret put ${secretName})`);
    const parsed = keysOf(text);
    return parsed.keys ?? parsed.pending;
  };
}
