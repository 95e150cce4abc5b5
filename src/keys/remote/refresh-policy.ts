import { JWKS_MAX_STALE_SECONDS } from '../../constants.ts';
import type { JwksRecord } from './record.ts';

/**
 * What a set's age allows: `fresh` is used as is; `stale` is used while a background refresh
 * runs, and while the issuer fails (stale-while-revalidate, stale-if-error); `expired` is too
 * old to trust even as a fallback, since keys may have been revoked since.
 */
export type Freshness = 'fresh' | 'stale' | 'expired';

export function freshness(record: JwksRecord, now: number): Freshness {
  const age = now - record.fetchedAt;
  if (age < record.ttlSeconds * 1000) return 'fresh';
  if (age < (record.ttlSeconds + JWKS_MAX_STALE_SECONDS) * 1000) return 'stale';
  return 'expired';
}

/** How long the shared tiers keep a record: its TTL plus the stale-if-error window. */
export function keepSeconds(record: JwksRecord): number {
  return record.ttlSeconds + JWKS_MAX_STALE_SECONDS;
}

/** Whether `intervalMs` have passed since `lastAt`: the cooldown on issuer fetches, the bound on colo reads. */
export function intervalPassed(lastAt: number, now: number, intervalMs: number): boolean {
  return now - lastAt >= intervalMs;
}

/** Whether a record names this kid (a kid-less token's key is found by the index, not by name). */
export function namesKid(record: JwksRecord, kid: string | undefined): boolean {
  return kid === undefined || record.keys.some((key) => key.kid === kid);
}
