import { COLO_FETCH_LEASE_MS, COLO_LEASE_POLL_MS, TIER_READ_TIMEOUT_MS } from '../../constants.ts';
import { type ColoLease, createColoLease } from './colo-lease.ts';
import { KeySourceError } from './key-source-error.ts';
import type { LoadedSet, MemoryTier } from './memory-tier.ts';
import { keepSeconds } from './refresh-policy.ts';
import { type ResolverIo, sharedTiers } from './shared-tiers.ts';
import { fetchUpstream, type UpstreamDeps, type UpstreamSet } from './upstream.ts';

export interface UpstreamRefreshDeps extends UpstreamDeps {
  /** The source's name in the shared tiers (`sourceKey`). */
  readonly key: string;
  readonly memory: MemoryTier;
}

/** Whether a set another isolate fetched is what this refresh is for. */
export type Satisfied = (set: LoadedSet) => Promise<boolean>;

/** How a refresh waits on a sibling that holds the fetch lease. */
interface ColoWait {
  readonly satisfied: Satisfied;
  /** When to stop waiting on siblings, rather than queue behind them (a missing kid's bound; else never). */
  readonly giveUpAt: number;
  /** The refresh is for a kid its set lacks. */
  readonly forKid: boolean;
}

export interface UpstreamRefresh {
  /** When the last refresh past the shared tiers started: the cooldown runs from here. */
  readonly lastAt: number;
  /**
   * Past the shared tiers: unless another isolate of this data centre is fetching the same set
   * right now (then its copy, or its failure, is this one's too), upstream (coordinator or
   * issuer); what comes back is installed and shared. `writeKv`: this refresh may write KV.
   */
  run(io: ResolverIo, satisfied: Satisfied, kid?: string, writeKv?: boolean): Promise<LoadedSet>;
  /** Notes the hash KV holds (read from it), so an unchanged set is not written again. */
  knowKv(hash: string): void;
  /** Whether the hash KV holds is known. */
  readonly kvKnown: boolean;
}

export function createUpstreamRefresh(deps: UpstreamRefreshDeps): UpstreamRefresh {
  const { key, clock, memory, tierLog } = deps;
  const cooldownMs = deps.cooldownSeconds * 1000;
  /** Hash of the set KV is known to hold, so unchanged sets are not rewritten (KV: ~1 write/s per key). */
  let kvHash: string | undefined;
  let lastAt = Number.NEGATIVE_INFINITY;

  /**
   * Writes what came from upstream to the shared tiers: the data centre always; KV only when told
   * to (the scheduled refresh), and only for this isolate's own fetch of a set KV does not hold.
   * KV takes one write per second per key and answers 429 past it, and after a rotation or on a
   * first deploy every data centre fetches within seconds: so KV has one writer, the coordinator
   * when bound, else the scheduled refresh (one invocation for the whole Worker). A Worker with
   * neither never fills KV; memory and the data centre's copy still work.
   */
  function share(io: ResolverIo, { record, from }: UpstreamSet, writeKv: boolean): void {
    const { cache, kv } = sharedTiers(io, tierLog, clock);
    if (cache) io.waitUntil(cache.put(key, record, keepSeconds(record)));
    if (writeKv && from === 'issuer' && kv && record.hash !== kvHash) {
      kvHash = record.hash;
      io.waitUntil(kv.put(key, record, keepSeconds(record)));
    }
  }

  /**
   * While another isolate of the data centre holds the fetch lease, look for its copy every
   * `COLO_LEASE_POLL_MS`: the set it fetched when it is newer than ours and `satisfied`, or its
   * failure (thrown, as if this isolate had fetched and failed). `undefined`: no lease, or it
   * lapsed with nothing to show, so this isolate fetches itself. For a kid, a sibling's set that
   * comes and lacks it is the answer at once: the request waited for one upstream fetch and never
   * starts a second one after it (a flood of made-up kids costs the data centre one call per lease).
   */
  async function waitForColoFetch(io: ResolverIo, lease: ColoLease, wait: ColoWait): Promise<LoadedSet | undefined> {
    const cache = sharedTiers(io, tierLog, clock).cache;
    for (let held = await lease.held(key); held; held = await lease.held(key)) {
      if (held.failed) throw new KeySourceError('issuer failing (another isolate of this data centre)');
      // Siblings taking the lease one after another (a flood of made-up kids) must not hold a request.
      if (clock.now() >= wait.giveUpAt) throw new KeySourceError('another isolate of this data centre is fetching');
      await new Promise<void>((resolve) => clock.after(COLO_LEASE_POLL_MS, resolve));
      const record = await cache?.get(key);
      const current = memory.loaded;
      if (record && (!current || record.fetchedAt > current.record.fetchedAt)) {
        const set = memory.install(record, 'cache_api');
        if (wait.forKid || (await wait.satisfied(set))) return set;
      }
    }
    return undefined;
  }

  return {
    get lastAt() {
      return lastAt;
    },
    get kvKnown() {
      return kvHash !== undefined;
    },
    knowKv(hash) {
      kvHash = hash;
    },
    async run(io, satisfied, kid, writeKv = false) {
      lastAt = clock.now();
      // With the coordinator too: the lease keeps a data centre's calls to it near one a second.
      const lease = io.cache ? createColoLease(io.cache, clock, tierLog, TIER_READ_TIMEOUT_MS) : undefined;
      if (lease) {
        const giveUpAt = kid === undefined ? Number.POSITIVE_INFINITY : clock.now() + COLO_FETCH_LEASE_MS;
        // Stored before the fetch starts: a sibling that looks a moment later waits for us. Losing
        // the lease to a sibling that took it at the same moment means waiting for that one.
        do {
          const fetchedNearby = await waitForColoFetch(io, lease, { satisfied, giveUpAt, forKid: kid !== undefined });
          if (fetchedNearby) return fetchedNearby;
        } while (!(await lease.take(key, COLO_FETCH_LEASE_MS)));
      }
      let fetched: UpstreamSet;
      try {
        fetched = await fetchUpstream(io, deps, memory.loaded?.record, kid, memory.knownJwksUri(clock.now()));
      } catch (error) {
        if (lease) io.waitUntil(lease.fail(key, cooldownMs));
        throw error;
      }
      if (fetched.from === 'issuer') {
        deps.log('jwks_fetched', {
          jwksUri: fetched.record.jwksUri,
          keys: fetched.record.keys.length,
          changed: fetched.record.hash !== memory.loaded?.record.hash,
        });
      }
      share(io, fetched, writeKv);
      return memory.install(fetched.record, fetched.from);
    },
  };
}
