import { VerifierError } from '../errors.ts';

/**
 * The issuer among a route's candidates whose `issuer` is the token's unverified `iss`, compared
 * exactly. Nothing is fetched for any other `iss`: a token naming a host we were not configured
 * with costs nothing (401 `wrong_issuer`).
 */
export function selectIssuer<T extends { readonly config: { readonly issuer: string } }>(
  candidates: readonly T[],
  iss: unknown,
): T {
  for (const candidate of candidates) if (candidate.config.issuer === iss) return candidate;
  throw new VerifierError('wrong_issuer');
}
