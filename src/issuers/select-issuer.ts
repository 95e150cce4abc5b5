import { VerifierError } from '../errors.ts';
import type { IssuerConfig } from '../policy/config-model.ts';
import { matchIssuer } from './issuer-pattern.ts';

/**
 * The issuer among a route's candidates that accepts the token's unverified `iss`: an exact
 * value, an alias, or a `{tenantid}` template whose tenant it accepts. Nothing is fetched for any
 * other `iss`: a token naming a host or tenant we were not configured with costs nothing (401
 * `wrong_issuer`).
 */
export function selectIssuer<T extends { readonly config: IssuerConfig }>(candidates: readonly T[], iss: unknown): T {
  for (const candidate of candidates) if (matchIssuer(candidate.config, iss) !== undefined) return candidate;
  throw new VerifierError('wrong_issuer');
}
