import type { JWK } from 'jose';
import { RSA_MAX_MODULUS_BITS, RSA_MIN_MODULUS_BITS, SUPPORTED_ALGORITHMS } from '../../constants.ts';
import { base64urlToBinary } from '../../shared/base64url.ts';

/** Members that only a private or symmetric key has; a JWKS that publishes them is broken. */
const SECRET_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const EC_CURVE_FOR_ALG: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
const EC_COORDINATE_BYTES: Record<string, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

/**
 * Why a key from a remote JWKS must not be used at all, or `undefined` when it may be.
 * Remote keys are never symmetric (RFC 8725 §3.1: an HS key made of a public key is the
 * classic key-confusion forgery).
 */
export function unusableKeyReason(jwk: JWK): string | undefined {
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return 'kid is not a string';
  if (SECRET_MEMBERS.some((member) => member in jwk)) return 'key has private or symmetric members';
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'key is not for signatures';
  if (jwk.key_ops !== undefined && (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes('verify'))) {
    return 'key_ops does not allow verify';
  }
  if (jwk.alg !== undefined && !SUPPORTED_ALGORITHMS.includes(jwk.alg)) return 'unsupported alg';
  switch (jwk.kty) {
    case 'RSA': {
      const bits = base64urlUnsignedBits(jwk.n);
      if (bits === undefined || base64urlUnsignedBits(jwk.e) === undefined) return 'malformed RSA key';
      if (bits < RSA_MIN_MODULUS_BITS) return 'RSA modulus too small';
      if (bits > RSA_MAX_MODULUS_BITS) return 'RSA modulus too large';
      if (jwk.e !== 'AQAB') return 'RSA public exponent is not 65537';
      return undefined;
    }
    case 'EC': {
      const size = jwk.crv === undefined ? undefined : EC_COORDINATE_BYTES[jwk.crv];
      if (size === undefined) return 'unsupported EC curve';
      if (base64urlBytes(jwk.x) !== size || base64urlBytes(jwk.y) !== size) return 'malformed EC key';
      return undefined;
    }
    case 'OKP':
      if (jwk.crv !== 'Ed25519') return 'unsupported OKP curve';
      if (base64urlBytes(jwk.x) !== 32) return 'malformed Ed25519 key';
      return undefined;
    default:
      return 'unsupported key type';
  }
}

/** Whether a usable key may verify a token signed with `alg` (RFC 7517 §4, RFC 8725 §3.1). */
export function keyFitsAlgorithm(jwk: JWK, alg: string): boolean {
  // A key published for EdDSA (our EdDSA is Ed25519 only) serves the fully-specified Ed25519 too (RFC 9864).
  if (jwk.alg !== undefined && jwk.alg !== alg && !(jwk.alg === 'EdDSA' && alg === 'Ed25519')) return false;
  switch (jwk.kty) {
    case 'RSA':
      return /^(RS|PS)(256|384|512)$/.test(alg);
    case 'EC':
      return EC_CURVE_FOR_ALG[alg] === jwk.crv;
    case 'OKP':
      return (alg === 'EdDSA' || alg === 'Ed25519') && jwk.crv === 'Ed25519';
    default:
      return false;
  }
}

function base64urlBytes(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value) || value.length % 4 === 1) return undefined;
  return Math.floor((value.length * 3) / 4);
}

/** Bit length of a base64url big-endian unsigned integer, ignoring leading zero bytes. */
function base64urlUnsignedBits(value: unknown): number | undefined {
  if (base64urlBytes(value) === undefined) return undefined;
  const binary = base64urlToBinary(value as string);
  let first = 0;
  while (first < binary.length && binary.charCodeAt(first) === 0) first++;
  if (first === binary.length) return 0;
  return (binary.length - first - 1) * 8 + (32 - Math.clz32(binary.charCodeAt(first)));
}
