import { compactVerify, errors, type JWSHeaderParameters, type JWTPayload } from 'jose';
import type { IssuerConfig } from '../config.ts';
import { type ErrorCode, VerifierError } from '../errors.ts';
import { normalizeTokenType } from '../policy/values.ts';
import { checkClaims } from './check-claims.ts';

export type KeyLookup = (header: JWSHeaderParameters) => Promise<CryptoKey>;

/**
 * Verifies the signature with jose's `compactVerify` (the algorithm allowlist is checked before
 * any key lookup), then the token type and the claims (`checkClaims`). `claims` is the payload
 * the shape check parsed from the very bytes jose verifies, so it is parsed once. The signature
 * comes first, so a forged expired token reports the forgery.
 */
export async function verifyToken(
  token: string,
  claims: JWTPayload,
  issuer: IssuerConfig,
  getKey: KeyLookup,
  nowMs: number,
): Promise<JWTPayload> {
  let header: JWSHeaderParameters;
  try {
    header = (await compactVerify(token, getKey, { algorithms: issuer.algorithms as string[] })).protectedHeader;
  } catch (error) {
    throw toVerifierError(error);
  }
  if (issuer.tokenTypes && !isAcceptedType(header.typ, issuer.tokenTypes)) throw new VerifierError('wrong_token_type');
  checkClaims(claims, issuer, nowMs);
  return claims;
}

function isAcceptedType(typ: unknown, accepted: readonly string[]): boolean {
  return typeof typ === 'string' && accepted.includes(normalizeTokenType(typ));
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
