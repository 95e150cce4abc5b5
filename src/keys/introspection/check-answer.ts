import type { IssuerConfig } from '../../config.ts';
import { VerifierError } from '../../errors.ts';
import { checkIssuerClaims } from '../../issuers/issuer-pattern.ts';
import { claimAt } from '../../shared/claim-path.ts';
import { audienceAccepted } from '../../token/check-claims.ts';

/**
 * What an answer must say before its members stand for the token's claims (RFC 7662 §2.2):
 * `active: true` (the boolean), never a refresh token (`token_type` naming one, Keycloak's
 * `typ: "Refresh"`: only access tokens open an API), `exp` not passed and `nbf` and `iat` reached
 * within the issuer's skew, `iss` (when present) the issuer's with its tenant claim agreeing as for
 * a JWT (an issuer with a `{tenantid}` template needs `iss`: without it the tenant is unknown),
 * `aud` (when present) one of its audiences, else its client in `client_ids`, then the issuer's
 * required claims.
 */
export function checkAnswer(members: Readonly<Record<string, unknown>>, issuer: IssuerConfig, nowMs: number): void {
  if (!isActive(members)) throw new VerifierError('token_inactive');
  if (isRefreshToken(members)) throw new VerifierError('wrong_token_type');
  const now = Math.floor(nowMs / 1000);
  const skew = issuer.clockSkewSeconds;
  const { exp, nbf, iat } = members;
  for (const date of [exp, nbf, iat]) {
    if (date !== undefined && (typeof date !== 'number' || !Number.isFinite(date)))
      throw new VerifierError('invalid_claims');
  }
  if (typeof nbf === 'number' && nbf > now + skew) throw new VerifierError('token_not_yet_valid');
  if (typeof iat === 'number' && iat > nowMs / 1000 + skew) throw new VerifierError('token_not_yet_valid');
  if (typeof exp === 'number' && exp <= now - skew) throw new VerifierError('token_expired');
  if (members.iss !== undefined) checkIssuerClaims(members, issuer);
  else if (issuer.accepted.some((pattern) => !('exact' in pattern))) throw new VerifierError('wrong_issuer');
  if (!audienceAccepted(members, issuer)) throw new VerifierError('wrong_audience');
  for (const path of issuer.requiredClaims) {
    if (claimAt(members, path) === undefined) throw new VerifierError('invalid_claims');
  }
}

/** Whether an answer is an active answer at all (for the cache: inactive answers are kept shorter). */
export function isActive(members: Readonly<Record<string, unknown>>): boolean {
  return members.active === true;
}

function isRefreshToken({ token_type: tokenType, typ }: Readonly<Record<string, unknown>>): boolean {
  if (typeof tokenType === 'string' && /refresh/i.test(tokenType)) return true;
  return typeof typ === 'string' && typ.toLowerCase() === 'refresh';
}
