import type { JWSHeaderParameters } from 'jose';
import { VerifierError } from '../errors.ts';
import type { TokenShape } from './token-shape.ts';

/** The keys that may verify a token with this header, each imported for its `alg` (the key index). */
export type KeysLookup = (header: JWSHeaderParameters) => Promise<readonly CryptoKey[]>;

/**
 * Whether a key the lookup found may verify this token at all (a key that names its own issuer
 * serves that issuer's tokens only). Keys it refuses are skipped; when it refuses every one, the
 * token is another issuer's: 401 `wrong_issuer`.
 */
export type KeyFilter = (key: CryptoKey) => boolean;

/**
 * WebCrypto's verify parameters per JWS `alg` (RFC 7518 §3). The hash of an RSA key is bound
 * when it is imported for its `alg`, so RSASSA and PSS name only what the key does not hold;
 * PSS uses a salt as long as the hash (RFC 7518 §3.5).
 */
const VERIFY_PARAMS: Readonly<Record<string, SubtleCryptoSignAlgorithm>> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  RS384: { name: 'RSASSA-PKCS1-v1_5' },
  RS512: { name: 'RSASSA-PKCS1-v1_5' },
  PS256: { name: 'RSA-PSS', saltLength: 32 },
  PS384: { name: 'RSA-PSS', saltLength: 48 },
  PS512: { name: 'RSA-PSS', saltLength: 64 },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  ES384: { name: 'ECDSA', hash: 'SHA-384' },
  ES512: { name: 'ECDSA', hash: 'SHA-512' },
  EdDSA: { name: 'Ed25519' },
  Ed25519: { name: 'Ed25519' },
  // The hash is bound to the HMAC key when it is imported (keys/local-secret.ts).
  HS256: { name: 'HMAC' },
  HS384: { name: 'HMAC' },
  HS512: { name: 'HMAC' },
};

/** RFC 7518 §3.4: an ECDSA JWS signature is R ‖ S, each exactly the curve's size; nothing else is one. */
const ECDSA_SIGNATURE_BYTES: Readonly<Record<string, number>> = { ES256: 64, ES384: 96, ES512: 132 };

const encoder = new TextEncoder();

/**
 * Verifies a shape-checked compact JWS with the runtime's WebCrypto, the same checks in the same
 * order as jose's `compactVerify` (the differential test holds us to it): `crit` (we recognise
 * no extension, and the shape check already refused `b64`), `alg` present and allowed before
 * any key lookup, then the signature over the token's own ASCII `header.payload` with the keys
 * our index bound to (kid, alg), tried in order. The math is BoringSSL's; this only feeds it.
 */
export async function verifySignature(
  token: string,
  shape: TokenShape,
  algorithms: readonly string[],
  getKeys: KeysLookup,
  mayVerify?: KeyFilter,
): Promise<void> {
  const { header, signingInputEnd, signature } = shape;
  if (header.crit !== undefined) throw new VerifierError('malformed_token');
  const alg = header.alg;
  if (typeof alg !== 'string' || alg === '') throw new VerifierError('malformed_token');
  const params = VERIFY_PARAMS[alg];
  if (!algorithms.includes(alg) || params === undefined) throw new VerifierError('alg_not_allowed');
  const keys = await getKeys(header as JWSHeaderParameters);
  const ecdsaBytes = ECDSA_SIGNATURE_BYTES[alg];
  if (ecdsaBytes !== undefined && signature.length !== ecdsaBytes) throw new VerifierError('bad_signature');
  const signingInput = encoder.encode(token.slice(0, signingInputEnd));
  let refused = 0;
  for (const key of keys) {
    if (mayVerify && !mayVerify(key)) {
      refused++;
      continue;
    }
    if (await verifiedBy(params, key, signature, signingInput)) return;
  }
  throw new VerifierError(refused > 0 && refused === keys.length ? 'wrong_issuer' : 'bad_signature');
}

/** A key the runtime refuses for these parameters fails like a wrong signature, as in jose. */
async function verifiedBy(
  params: SubtleCryptoSignAlgorithm,
  key: CryptoKey,
  signature: Uint8Array,
  signingInput: Uint8Array,
): Promise<boolean> {
  try {
    return await crypto.subtle.verify(params, key, signature, signingInput);
  } catch {
    return false;
  }
}
