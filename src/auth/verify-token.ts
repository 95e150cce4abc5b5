import { errors, type JWSHeaderParameters, type JWTPayload, jwtVerify } from 'jose';
import type { IssuerConfig } from '../config.ts';
import { type ErrorCode, VerifierError } from '../errors.ts';
import { assertTokenShape } from './token-shape.ts';

export type KeyLookup = (header: JWSHeaderParameters) => Promise<CryptoKey>;

/**
 * Verifies signature and claims with jose: the algorithm allowlist is checked before any key
 * lookup, `exp` is required, `iss` must match exactly and `aud` must contain one of ours.
 * jose checks the signature before the claims, so a forged expired token reports the forgery.
 */
export async function verifyToken(
  token: string,
  issuer: IssuerConfig,
  getKey: KeyLookup,
  nowMs: number,
): Promise<JWTPayload> {
  assertTokenShape(token);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, getKey, {
      algorithms: [...issuer.algorithms],
      issuer: issuer.issuer,
      audience: [...issuer.audiences],
      clockTolerance: issuer.clockSkewSeconds,
      requiredClaims: ['exp'],
      currentDate: new Date(nowMs),
    }));
  } catch (error) {
    throw toVerifierError(error);
  }
  // JSON allows 1e400, which parses to Infinity: an `exp` that never passes. jose checks only the type.
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    if (payload[claim] !== undefined && !Number.isFinite(payload[claim])) throw new VerifierError('invalid_claims');
  }
  // jose only checks a future `iat` when maxTokenAge is set; a token from the future is not valid yet.
  if (payload.iat !== undefined && payload.iat > nowMs / 1000 + issuer.clockSkewSeconds) {
    throw new VerifierError('token_not_yet_valid');
  }
  return payload;
}

function toVerifierError(error: unknown): VerifierError {
  if (error instanceof VerifierError) return error;
  return new VerifierError(joseErrorCode(error), undefined, { cause: error });
}

function joseErrorCode(error: unknown): ErrorCode {
  if (error instanceof errors.JWTExpired) return 'token_expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      // Missing or different: either way the token was not issued by our issuer for us.
      case 'iss':
        return 'wrong_issuer';
      case 'aud':
        return 'wrong_audience';
      case 'nbf':
        return error.reason === 'check_failed' ? 'token_not_yet_valid' : 'invalid_claims';
      default:
        return 'invalid_claims';
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  return 'malformed_token';
}
