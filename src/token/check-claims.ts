import type { JWTPayload } from 'jose';
import type { IssuerConfig } from '../config.ts';
import { VerifierError } from '../errors.ts';
import { checkIssuerClaims } from '../issuers/issuer-pattern.ts';
import { claimAt } from '../shared/claim-path.ts';

/**
 * Checks a verified token's registered claims (RFC 7519 §4.1) against its issuer's policy:
 * `iss` exactly ours, `aud` one of ours (a string or an array holding it), `exp` required, and
 * every NumericDate a finite number within the clock skew. The checks and their order are
 * jose's `jwtVerify` claim checks, so a token failing several gets the same code, plus two
 * jose leaves out: a NumericDate must be finite, and `iat` must not lie in the future.
 * A token without `aud` passes the audience check only through `client_ids` (Amazon Cognito
 * access tokens); then come the issuer's required claims.
 * Run only after the signature has verified, so a forged token never reports its claims.
 */
export function checkClaims(claims: JWTPayload, issuer: IssuerConfig, nowMs: number): void {
  if (!Object.hasOwn(claims, 'iss')) throw new VerifierError('wrong_issuer');
  const hasAud = Object.hasOwn(claims, 'aud');
  if (!hasAud && !isAcceptedClient(claims, issuer.clientIds)) throw new VerifierError('wrong_audience');
  if (!Object.hasOwn(claims, 'exp')) throw new VerifierError('invalid_claims');
  checkIssuerClaims(claims, issuer);
  if (hasAud && !hasAudience(claims.aud, issuer.audiences)) throw new VerifierError('wrong_audience');

  const skew = issuer.clockSkewSeconds;
  // Every comparison with NaN is false, so a broken clock or skew (a library caller's `now` or
  // hand-built config) would pass expired tokens: fail closed instead.
  if (!Number.isFinite(nowMs) || !Number.isFinite(skew) || skew < 0) throw new VerifierError('internal_error');
  // jose's clock: whole seconds, rounded down.
  const now = Math.floor(nowMs / 1000);
  const { iat, nbf, exp } = claims;
  if (iat !== undefined && typeof iat !== 'number') throw new VerifierError('invalid_claims');
  if (nbf !== undefined && typeof nbf !== 'number') throw new VerifierError('invalid_claims');
  if (nbf !== undefined && nbf > now + skew) throw new VerifierError('token_not_yet_valid');
  if (typeof exp !== 'number') throw new VerifierError('invalid_claims');
  if (exp <= now - skew) throw new VerifierError('token_expired');
  // JSON allows 1e400, which parses to Infinity: an `exp` that never passes.
  if (!Number.isFinite(exp) || (nbf !== undefined && !Number.isFinite(nbf))) throw new VerifierError('invalid_claims');
  if (iat !== undefined && !Number.isFinite(iat)) throw new VerifierError('invalid_claims');
  // A token issued in the future is not valid yet (jose checks this only when a maximum age is set).
  if (iat !== undefined && iat > nowMs / 1000 + skew) throw new VerifierError('token_not_yet_valid');
  for (const path of issuer.requiredClaims) {
    if (claimAt(claims, path) === undefined) throw new VerifierError('invalid_claims');
  }
}

/**
 * The audience rule on its own (also for introspection answers): a token with `aud` must hold one
 * of the issuer's audiences; one without names an accepted client instead.
 */
export function audienceAccepted(
  claims: Readonly<Record<string, unknown>>,
  issuer: Pick<IssuerConfig, 'audiences' | 'clientIds'>,
): boolean {
  return Object.hasOwn(claims, 'aud')
    ? hasAudience(claims.aud, issuer.audiences)
    : isAcceptedClient(claims, issuer.clientIds);
}

function hasAudience(aud: unknown, ours: readonly string[]): boolean {
  if (typeof aud === 'string') return ours.includes(aud);
  return Array.isArray(aud) && ours.some((audience) => aud.includes(audience));
}

/**
 * A token without `aud` names its client instead: Cognito's access tokens in `client_id` (with
 * `token_use: "access"`), Keycloak's and Clerk's in `azp` (OIDC Core §2), read only when there is
 * no `client_id`. A `token_use` naming another kind (Cognito's ID tokens say `id`) is never an
 * access token.
 */
function isAcceptedClient(claims: Readonly<Record<string, unknown>>, clientIds: readonly string[]): boolean {
  const { token_use: tokenUse } = claims;
  const clientId = Object.hasOwn(claims, 'client_id') ? claims.client_id : claims.azp;
  return (
    typeof clientId === 'string' && clientIds.includes(clientId) && (tokenUse === undefined || tokenUse === 'access')
  );
}
