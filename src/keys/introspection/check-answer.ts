import type { IssuerConfig } from '../../config.ts';
import { VerifierError } from '../../errors.ts';
import { matchIssuer } from '../../issuers/issuer-pattern.ts';
import { audienceAccepted } from '../../token/check-claims.ts';

/**
 * What an answer must say before its members stand for the token's claims (RFC 7662 §2.2):
 * `active: true` (the boolean), never a refresh token (`token_type` naming one, Keycloak's
 * `typ: "Refresh"`: only access tokens open an API), `exp` not passed and `nbf` reached within the
 * issuer's skew, `iss` (when present) the issuer's, `aud` (when present) one of its audiences, else
 * its client in `client_ids` as for a JWT.
 */
export function checkAnswer(members: Readonly<Record<string, unknown>>, issuer: IssuerConfig, nowMs: number): void {
  if (members.active !== true) throw new VerifierError('token_inactive');
  if (isRefreshToken(members)) throw new VerifierError('wrong_token_type');
  const now = Math.floor(nowMs / 1000);
  const skew = issuer.clockSkewSeconds;
  const { exp, nbf } = members;
  if (exp !== undefined && (typeof exp !== 'number' || !Number.isFinite(exp)))
    throw new VerifierError('invalid_claims');
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf)))
    throw new VerifierError('invalid_claims');
  if (typeof nbf === 'number' && nbf > now + skew) throw new VerifierError('token_not_yet_valid');
  if (typeof exp === 'number' && exp <= now - skew) throw new VerifierError('token_expired');
  if (members.iss !== undefined && matchIssuer(issuer, members.iss) === undefined) {
    throw new VerifierError('wrong_issuer');
  }
  if (!audienceAccepted(members, issuer)) throw new VerifierError('wrong_audience');
}

/** Whether an answer is an active answer at all (for the cache: inactive answers are kept shorter). */
export function isActive(members: Readonly<Record<string, unknown>>): boolean {
  return members.active === true;
}

function isRefreshToken({ token_type: tokenType, typ }: Readonly<Record<string, unknown>>): boolean {
  if (typeof tokenType === 'string' && /refresh/i.test(tokenType)) return true;
  return typeof typ === 'string' && typ.toLowerCase() === 'refresh';
}
