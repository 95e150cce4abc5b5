import { KV_MIN_EXPIRATION_TTL_SECONDS, TIER_READ_TIMEOUT_MS } from '../../constants.ts';
import type { Logger } from '../../observe/log.ts';
import { type Clock, within } from '../../shared/clock.ts';
import { parseRecord } from './record.ts';
import type { TierStore } from './tier-store.ts';

export function kvKey(key: string): string {
  return `jwks:v1:${key}`;
}

/** Workers KV: global and eventually consistent; the tier a cold data centre falls back to. */
export function createKvStore(kv: KVNamespace, log: Logger, clock: Clock): TierStore {
  return {
    name: 'kv',
    async get(key) {
      try {
        return parseRecord(await within(kv.get(kvKey(key), 'json'), TIER_READ_TIMEOUT_MS, clock));
      } catch (error) {
        log('jwks_tier_error', { tier: 'kv', op: 'get', error: String(error) });
        return undefined;
      }
    },
    async put(key, record, keepSeconds) {
      try {
        await kv.put(kvKey(key), JSON.stringify(record), {
          // KV refuses an expirationTtl under 60 s.
          expirationTtl: Math.max(keepSeconds, KV_MIN_EXPIRATION_TTL_SECONDS),
        });
      } catch (error) {
        log('jwks_tier_error', { tier: 'kv', op: 'put', error: String(error) });
      }
    },
  };
}
