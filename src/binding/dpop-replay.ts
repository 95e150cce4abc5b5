import { DPOP_PROOF_MAX_AGE_SECONDS, DPOP_PROOF_MAX_FUTURE_SECONDS } from '../constants.ts';
import { sha256 } from '../shared/digest.ts';

/** Remembers DPoP proofs by key and `jti` for as long as their `iat` window lets them be used. */
export interface ReplayGuard {
  /** `true` the first time this proof is seen within the window; `false` for a replay. */
  firstUse(jkt: string, jti: string, now: number): Promise<boolean> | boolean;
}

/** The DPOP_REPLAY namespace as the isolate uses it: objects that answer `firstUse` over RPC. */
export interface ReplayNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): { firstUse(key: string, now: number, until: number): Promise<boolean> };
}

/** How far the proofs spread: by the first two hex digits of their hash, over 256 objects. */
const SHARD_HEX_DIGITS = 2;

/** How long a proof is remembered after `now`: the whole window its `iat` may fall in. */
const WINDOW_MS = (DPOP_PROOF_MAX_AGE_SECONDS + DPOP_PROOF_MAX_FUTURE_SECONDS) * 1000;

/**
 * The network-wide check: the proof's record lives in the DPOP_REPLAY object that a prefix of
 * its jti's hash picks, so load spreads over many objects and every data centre asks the same
 * one for the same proof.
 */
export function sharedReplayGuard(namespace: ReplayNamespace): ReplayGuard {
  return {
    async firstUse(jkt, jti, now) {
      // The shard by the jti's hash; the record by key and jti, as a jti is unique per key (RFC 9449 §11.1).
      const shard = namespace.get(
        namespace.idFromName(`dpop-replay:${(await sha256Hex(jti)).slice(0, SHARD_HEX_DIGITS)}`),
      );
      return shard.firstUse(await sha256Hex(`${jkt} ${jti}`), now, now + WINDOW_MS);
    },
  };
}

async function sha256Hex(text: string): Promise<string> {
  return [...(await sha256(text))].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * The per-isolate replay check: a proof replayed to the same isolate is refused. Weaker than the
 * DPOP_REPLAY Durable Object, which every isolate shares: without it, a replay that lands on
 * another isolate or data centre within the window is not seen. Bounded: the oldest entries go
 * first once `maxEntries` are held.
 */
export function createReplayCache(maxEntries: number): { firstUse(jkt: string, jti: string, now: number): boolean } {
  const seen = new Map<string, number>();
  return {
    firstUse(jkt, jti, now) {
      const key = `${jkt} ${jti}`;
      const until = seen.get(key);
      if (until !== undefined && until > now) return false;
      seen.delete(key);
      while (seen.size >= maxEntries) seen.delete(seen.keys().next().value as string);
      seen.set(key, now + WINDOW_MS);
      return true;
    },
  };
}
