import { TIER_READ_TIMEOUT_MS } from '../../constants.ts';
import type { Logger } from '../../observe/log.ts';
import { type Clock, within } from '../../shared/clock.ts';
import { type JwksRecord, parseRecord } from './record.ts';
import type { TierStore } from './tier-store.ts';

/** The Cache API keys by URL; this host is never fetched, it only namespaces our entries. */
const CACHE_KEY_BASE = 'https://jwks-cache.edge-verifier.invalid/v1/';

/** The data centre's Cache API (`caches.default`): about a millisecond, shared by its isolates. */
export function cacheApiUrl(key: string): string {
  return CACHE_KEY_BASE + encodeURIComponent(key);
}

export function createCacheApiStore(cache: Cache, log: Logger, clock: Clock): TierStore {
  const requestFor = (key: string) => new Request(cacheApiUrl(key));
  return {
    name: 'cache_api',
    async get(key) {
      try {
        const read = async () => {
          const response = await cache.match(requestFor(key));
          return response ? parseRecord(await response.json()) : undefined;
        };
        return await within(read(), TIER_READ_TIMEOUT_MS, clock);
      } catch (error) {
        log('jwks_tier_error', { tier: 'cache_api', op: 'get', error: String(error) });
        return undefined;
      }
    },
    async put(key, record: JwksRecord, keepSeconds) {
      try {
        await cache.put(
          requestFor(key),
          new Response(JSON.stringify(record), {
            headers: { 'content-type': 'application/json', 'cache-control': `max-age=${keepSeconds}` },
          }),
        );
      } catch (error) {
        log('jwks_tier_error', { tier: 'cache_api', op: 'put', error: String(error) });
      }
    },
  };
}
