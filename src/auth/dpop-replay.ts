import { DPOP_PROOF_MAX_AGE_SECONDS, DPOP_PROOF_MAX_FUTURE_SECONDS } from '../constants.ts';

/** Remembers DPoP proofs by key and `jti` for as long as their `iat` window lets them be used. */
export interface ReplayCache {
  /** `true` the first time this proof is seen within the window; `false` for a replay. */
  firstUse(jkt: string, jti: string, now: number): boolean;
}

/**
 * The per-isolate replay check: a proof replayed to the same isolate is refused. Weaker than the
 * DPOP_REPLAY Durable Object, which every isolate shares: without it, a replay that lands on
 * another isolate or data centre within the window is not seen. Bounded: the oldest entries go
 * first once `maxEntries` are held.
 */
export function createReplayCache(maxEntries: number): ReplayCache {
  const seen = new Map<string, number>();
  const windowMs = (DPOP_PROOF_MAX_AGE_SECONDS + DPOP_PROOF_MAX_FUTURE_SECONDS) * 1000;
  return {
    firstUse(jkt, jti, now) {
      const key = `${jkt} ${jti}`;
      const until = seen.get(key);
      if (until !== undefined && until > now) return false;
      seen.delete(key);
      while (seen.size >= maxEntries) seen.delete(seen.keys().next().value as string);
      seen.set(key, now + windowMs);
      return true;
    },
  };
}
