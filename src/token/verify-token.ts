import type { JWTPayload } from 'jose';
import type { IssuerConfig } from '../config.ts';
import { VerifierError } from '../errors.ts';
import { normalizeTokenType } from '../policy/values.ts';
import { checkClaims } from './check-claims.ts';
import type { TokenShape } from './token-shape.ts';
import { type KeyFilter, type KeysLookup, verifySignature } from './verify-signature.ts';

/**
 * Verifies a shape-checked token: the signature (`verifySignature`; the algorithm allowlist is
 * checked before any key lookup), then the token type and the claims (`checkClaims`). The claims
 * are the payload the shape check parsed from the very bytes that were verified, so they are
 * parsed once. The signature comes first, so a forged expired token reports the forgery.
 */
export async function verifyToken(
  token: string,
  shape: TokenShape,
  issuer: IssuerConfig,
  getKeys: KeysLookup,
  nowMs: number,
  mayVerify?: KeyFilter,
): Promise<JWTPayload> {
  await verifySignature(token, shape, issuer.algorithms, getKeys, mayVerify);
  if (issuer.tokenTypes && !isAcceptedType(shape.header.typ, issuer.tokenTypes)) {
    throw new VerifierError('wrong_token_type');
  }
  checkClaims(shape.claims, issuer, nowMs);
  return shape.claims;
}

function isAcceptedType(typ: unknown, accepted: readonly string[]): boolean {
  return typeof typ === 'string' && accepted.includes(normalizeTokenType(typ));
}
