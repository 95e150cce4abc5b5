import { compactVerify, errors, type JWSHeaderParameters, type JWTPayload } from 'jose';
import type { IssuerConfig } from '../config.ts';
import { type ErrorCode, VerifierError } from '../errors.ts';
import { checkClaims } from './check-claims.ts';
import { parseTokenShape } from './token-shape.ts';

export type KeyLookup = (header: JWSHeaderParameters) => Promise<CryptoKey>;

/**
 * Verifies the signature with jose's `compactVerify` (the algorithm allowlist is checked before
 * any key lookup), then the claims (`checkClaims`). The payload checked is the one the shape check
 * parsed from the very bytes jose verified, so it is parsed once. The signature comes first, so a
 * forged expired token reports the forgery.
 */
export async function verifyToken(
  token: string,
  issuer: IssuerConfig,
  getKey: KeyLookup,
  nowMs: number,
): Promise<JWTPayload> {
  const claims = parseTokenShape(token);
  try {
    await compactVerify(token, getKey, { algorithms: issuer.algorithms as string[] });
  } catch (error) {
    throw toVerifierError(error);
  }
  checkClaims(claims, issuer, nowMs);
  return claims;
}

function toVerifierError(error: unknown): VerifierError {
  if (error instanceof VerifierError) return error;
  return new VerifierError(joseErrorCode(error), undefined, { cause: error });
}

function joseErrorCode(error: unknown): ErrorCode {
  if (error instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  return 'malformed_token';
}
