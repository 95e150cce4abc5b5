import type { DpopChallenge } from '../errors.ts';

/** What every challenge of one verifier carries, fixed by its config. */
export interface ChallengeContext {
  readonly realm: string;
  /** RFC 9728 §5.1: the absolute URL of the protected-resource metadata, when it is published. */
  readonly resourceMetadata?: string | undefined;
}

/** One refusal's challenge context: the verifier's, and, on a route that accepts DPoP, which challenges it carries (RFC 9449 §7.1). */
export interface RefusalChallenge extends ChallengeContext {
  readonly dpop?: DpopChallenge | undefined;
}

export interface ChallengeParams extends ChallengeContext {
  readonly error?: string | undefined;
  readonly errorDescription?: string | undefined;
  readonly scope?: string | undefined;
}

/**
 * One RFC 6750 §3 Bearer challenge with quoted values. Inputs are our own fixed strings and
 * validated config; any `"` or `\` is escaped anyway (RFC 9110 §5.6.4 quoted-pair) so a value
 * can never break out of its parameter.
 */
export function buildChallenge({ realm, error, errorDescription, scope, resourceMetadata }: ChallengeParams): string {
  const params = [`realm=${quote(realm)}`];
  if (error) params.push(`error=${quote(error)}`);
  if (error && errorDescription) params.push(`error_description=${quote(errorDescription)}`);
  if (scope) params.push(`scope=${quote(scope)}`);
  if (resourceMetadata) params.push(`resource_metadata=${quote(resourceMetadata)}`);
  return `Bearer ${params.join(', ')}`;
}

/** An RFC 9449 §7.1 DPoP challenge: the accepted proof algorithms, and the error when there is one. */
export function buildDpopChallenge(
  algs: readonly string[],
  { realm, error, errorDescription, scope, resourceMetadata }: ChallengeParams,
): string {
  const params = [`realm=${quote(realm)}`, `algs=${quote(algs.join(' '))}`];
  if (error) params.push(`error=${quote(error)}`);
  if (error && errorDescription) params.push(`error_description=${quote(errorDescription)}`);
  if (scope) params.push(`scope=${quote(scope)}`);
  if (resourceMetadata) params.push(`resource_metadata=${quote(resourceMetadata)}`);
  return `DPoP ${params.join(', ')}`;
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7E]/g, '')}"`;
}
