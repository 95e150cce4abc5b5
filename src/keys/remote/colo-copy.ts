import { COLO_READ_INTERVAL_MS } from '../../constants.ts';
import type { Logger } from '../../observe/log.ts';
import type { Clock } from '../../shared/clock.ts';
import type { LoadedSet, MemoryTier } from './memory-tier.ts';
import { intervalPassed } from './refresh-policy.ts';
import { type ResolverIo, sharedTiers } from './shared-tiers.ts';

export interface ColoCopy {
  /** Whether a read is allowed now (at most one per `COLO_READ_INTERVAL_MS`). */
  readonly mayRead: boolean;
  /** The data centre's copy, installed when it is newer than `current`; `undefined` when not, or not read now. */
  newer(io: ResolverIo, current: LoadedSet): Promise<LoadedSet | undefined>;
}

/**
 * The data centre's copy (Cache API) as a refresh's first stop: another isolate of this data
 * centre may already hold the set we lack. It is not an upstream fetch, so no cooldown applies;
 * it is bounded on its own, to one read per `COLO_READ_INTERVAL_MS`, so a flood of made-up kids
 * is not a Cache API read per request.
 */
export function createColoCopy(key: string, memory: MemoryTier, clock: Clock, tierLog: Logger): ColoCopy {
  let lastReadAt = Number.NEGATIVE_INFINITY;
  return {
    get mayRead() {
      return intervalPassed(lastReadAt, clock.now(), COLO_READ_INTERVAL_MS);
    },
    async newer(io, current) {
      if (!intervalPassed(lastReadAt, clock.now(), COLO_READ_INTERVAL_MS)) return undefined;
      lastReadAt = clock.now();
      const record = await sharedTiers(io, tierLog, clock).cache?.get(key);
      if (!record || record.fetchedAt <= current.record.fetchedAt) return undefined;
      return memory.install(record, 'cache_api');
    },
  };
}
