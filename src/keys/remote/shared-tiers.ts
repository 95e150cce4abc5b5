import type { KeySetCoordinator } from '../../coordinator/protocol.ts';
import type { Logger } from '../../observe/log.ts';
import type { Clock } from '../../shared/clock.ts';
import type { JwksRecord } from './record.ts';
import { keepSeconds } from './refresh-policy.ts';
import { createCacheApiStore } from './store-cache-api.ts';
import { createKvStore } from './store-kv.ts';
import type { TierStore } from './tier-store.ts';

/** Per-request handles: the bindings may differ between requests, the resolver's state does not. */
export interface ResolverIo {
  readonly kv: KVNamespace | undefined;
  readonly cache: Cache | undefined;
  /** The key sources' coordinator (the `JWKS_COORDINATOR` Durable Object); without it, isolates fetch from the issuer. */
  readonly coordinator?: KeySetCoordinator | undefined;
  waitUntil(promise: Promise<unknown>): void;
}

/** The tiers below memory that other isolates share: the data centre's Cache API, then global KV. */
export interface SharedTiers {
  readonly cache?: TierStore;
  readonly kv?: TierStore;
}

export function sharedTiers(io: ResolverIo, log: Logger, clock: Clock): SharedTiers {
  return {
    ...(io.cache ? { cache: createCacheApiStore(io.cache, log, clock) } : {}),
    ...(io.kv ? { kv: createKvStore(io.kv, log, clock) } : {}),
  };
}

/** A cold isolate's read: the data centre first, then KV, whose hit is copied down to the data centre. */
export async function readShared(
  tiers: SharedTiers,
  key: string,
  io: ResolverIo,
): Promise<{ readonly record: JwksRecord; readonly tier: 'cache_api' | 'kv' } | undefined> {
  const fromCache = await tiers.cache?.get(key);
  if (fromCache) return { record: fromCache, tier: 'cache_api' };
  const fromKv = await tiers.kv?.get(key);
  if (!fromKv) return undefined;
  if (tiers.cache) io.waitUntil(tiers.cache.put(key, fromKv, keepSeconds(fromKv)));
  return { record: fromKv, tier: 'kv' };
}
