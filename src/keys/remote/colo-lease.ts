import { COLO_LEASE_SETTLE_MS } from '../../constants.ts';
import type { Logger } from '../../observe/log.ts';
import type { Clock } from '../../shared/clock.ts';
import { sleep, within } from '../../shared/clock.ts';

/** Lease entries live beside the records, under their own path; this host is never fetched. */
const LEASE_KEY_BASE = 'https://jwks-cache.edge-verifier.invalid/v1/lease/';

/**
 * A note in the data centre's Cache API that one isolate is fetching a key source from upstream
 * right now, so that the other isolates of the data centre wait for its copy instead of each
 * fetching the same set (a rotation reaches several isolates of a busy data centre within the
 * fetch's round trip). The Cache API has no compare-and-set: an isolate that takes the lease reads
 * it back, and only the one whose note is there `COLO_LEASE_SETTLE_MS` later fetches (the last
 * writer wins), so isolates that all found the lease lapsed at once (every waiter polls it) do not
 * all fetch. Advisory all the same: a Cache API that fails to store or read the note lets the
 * isolate fetch, and a lease outlives nothing but its own short bound.
 */
export interface ColoLease {
  /** The lease another isolate holds now, or `undefined`. */
  held(key: string): Promise<Lease | undefined>;
  /** Takes the lease for `ms`: `false` when another isolate's note is there once ours is written (it fetches, not us). */
  take(key: string, ms: number): Promise<boolean>;
  /** Says the fetch failed, for `ms`: the others then treat the issuer as failing, as the holder did, instead of each trying it. */
  fail(key: string, ms: number): Promise<void>;
}

export interface Lease {
  /** Epoch ms. */
  readonly until: number;
  readonly failed: boolean;
  /** Who wrote it: a random id per take. */
  readonly owner: string;
}

export function createColoLease(cache: Cache, clock: Clock, log: Logger, readTimeoutMs: number): ColoLease {
  const requestFor = (key: string) => new Request(LEASE_KEY_BASE + encodeURIComponent(key));
  async function write(key: string, ms: number, failed: boolean, owner = ''): Promise<void> {
    try {
      await cache.put(
        requestFor(key),
        new Response(JSON.stringify({ until: clock.now() + ms, failed, owner }), {
          // Whole seconds, at least one: the lease's own `until` is what counts.
          headers: {
            'content-type': 'application/json',
            'cache-control': `max-age=${Math.max(1, Math.ceil(ms / 1000))}`,
          },
        }),
      );
    } catch (error) {
      log('jwks_tier_error', { tier: 'cache_api', op: 'put', entry: 'lease', error: String(error) });
    }
  }
  async function held(key: string): Promise<Lease | undefined> {
    try {
      const response = await within(cache.match(requestFor(key)), readTimeoutMs, clock);
      const lease = response ? ((await response.json()) as Partial<Lease>) : undefined;
      if (typeof lease?.until !== 'number' || lease.until <= clock.now()) return undefined;
      return { until: lease.until, failed: lease.failed === true, owner: String(lease.owner ?? '') };
    } catch (error) {
      log('jwks_tier_error', { tier: 'cache_api', op: 'get', entry: 'lease', error: String(error) });
      return undefined;
    }
  }
  return {
    held,
    async take(key, ms) {
      const owner = crypto.randomUUID();
      await write(key, ms, false, owner);
      await sleep(clock, COLO_LEASE_SETTLE_MS);
      const after = await held(key);
      // No note to read (the Cache API failed to keep it): fetch, as with no lease at all.
      return after === undefined || after.owner === owner;
    },
    fail: (key, ms) => write(key, ms, true),
  };
}
