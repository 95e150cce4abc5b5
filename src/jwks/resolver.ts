import type { JWSHeaderParameters } from 'jose';
import {
  COLO_FETCH_LEASE_MS,
  COLO_LEASE_POLL_MS,
  COLO_READ_INTERVAL_MS,
  SHARED_REFRESH_WAIT_MS,
  TIER_READ_TIMEOUT_MS,
} from '../constants.ts';
import { VerifierError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Decision, KeyTier } from '../observe/decision.ts';
import type { Clock } from './clock.ts';
import { type ColoLease, createColoLease } from './colo-lease.ts';
import { type KeySource, sourceKey } from './issuer-fetch.ts';
import { createKeyIndex, type KeyIndex } from './key-index.ts';
import { KeySourceError } from './key-source-error.ts';
import type { JwksRecord } from './record.ts';
import { freshness, intervalPassed, keepSeconds } from './refresh-policy.ts';
import { type ResolverIo, readShared, sharedTiers } from './shared-tiers.ts';
import { createSingleFlight } from './single-flight.ts';
import { oncePerCause } from './tier-store.ts';
import { fetchUpstream, type UpstreamSet } from './upstream.ts';

export type { ResolverIo } from './shared-tiers.ts';

export interface JwksResolverOptions extends KeySource {
  readonly cooldownSeconds: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly fetch?: typeof fetch;
}

export interface JwksResolver {
  /**
   * Synchronously: the hash of the key set in memory when it may still be used (starting a
   * background refresh if it is stale), or `undefined`. Results derived from a set, such as
   * verified tokens, are valid only while this stays the same.
   */
  currentVersion(io: ResolverIo): string | undefined;
  /**
   * The keys that may verify a token with this header (one with a `kid`; up to
   * `MAX_KIDLESS_CANDIDATE_KEYS` without), each imported for the header's `alg`; throws
   * `unknown_kid` or `jwks_unavailable`.
   */
  getKeys(header: JWSHeaderParameters, io: ResolverIo, decision?: Decision): Promise<readonly CryptoKey[]>;
  /** Refreshes from upstream now (coordinator or issuer) and writes every tier (the scheduled refresh). */
  refresh(io: ResolverIo): Promise<void>;
}

interface LoadedSet {
  readonly record: JwksRecord;
  readonly index: KeyIndex;
  /** The tier this set was read from into memory. */
  readonly source: Exclude<KeyTier, 'token_cache' | 'memory'>;
}

/**
 * One key source's cache, built once per isolate: its closure state is the memory tier.
 * Lookups go memory → Cache API → KV → coordinator or issuer (`readShared`, `fetchUpstream`);
 * when a set may be used and when to refresh is `freshness` (fresh, stale-while-revalidate,
 * stale-if-error, expired). Every upstream fetch, whatever caused it, starts a cooldown during
 * which an unknown `kid` cannot cause another, so a flood of made-up kids costs one fetch per
 * cooldown; the data centre's copy is read first, inside the cooldown too, at most once per
 * `COLO_READ_INTERVAL_MS`.
 */
export function createJwksResolver(options: JwksResolverOptions): JwksResolver {
  const { clock, log } = options;
  const now = clock.now;
  const key = sourceKey(options);
  const cooldownMs = options.cooldownSeconds * 1000;

  let loaded: LoadedSet | undefined;
  /** Hash of the set KV is known to hold, so unchanged sets are not rewritten (KV: ~1 write/s per key). */
  let kvHash: string | undefined;
  let lastUpstreamAt = Number.NEGATIVE_INFINITY;
  let lastColoReadAt = Number.NEGATIVE_INFINITY;
  let discovered: { readonly uri: string; readonly at: number } | undefined;
  const flight = createSingleFlight<LoadedSet>(clock, SHARED_REFRESH_WAIT_MS, () => loaded);
  /** With nothing in memory, every request reaches the tiers: a tier that is down is logged once per cooldown, not per request. */
  const tierLog = oncePerCause(log, now, cooldownMs);
  const upstreamDeps = {
    source: options,
    cooldownSeconds: options.cooldownSeconds,
    clock,
    log,
    limitedLog: tierLog,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };

  /** An older concurrent load must never replace a newer set; an unchanged set keeps its imported keys. */
  function install(record: JwksRecord, source: LoadedSet['source']): LoadedSet {
    if (loaded && loaded.record.fetchedAt > record.fetchedAt) return loaded;
    const index = loaded && loaded.record.hash === record.hash ? loaded.index : createKeyIndex(record.keys);
    loaded = { record, index, source };
    if (!options.jwksUri) discovered = { uri: record.jwksUri, at: record.fetchedAt };
    return loaded;
  }

  /** A discovered JWKS URI is trusted for one TTL, then the issuer's metadata is read again. */
  function knownJwksUri(): string | undefined {
    return discovered && now() - discovered.at < options.ttlSeconds * 1000 ? discovered.uri : undefined;
  }

  /**
   * Writes what came from upstream to the shared tiers: the data centre always; KV only when told
   * to, and only for this isolate's own fetch of a set KV does not hold. KV allows about one write
   * per second per key, and after a rotation every data centre fetches the new set within seconds:
   * so KV has one writer per change, the coordinator when bound, else the scheduled refresh, and
   * a request writes it only to fill an empty KV (a Worker without a cron still gets one).
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
   * Past the shared tiers: unless another isolate of this data centre is fetching the same set
   * right now (then its copy, or its failure, is this isolate's too), upstream. `satisfied` says
   * whether a set another isolate fetched is what this refresh is for.
   */
  async function fromUpstream(
    io: ResolverIo,
    satisfied: (set: LoadedSet) => Promise<boolean>,
    kid?: string,
    writeKv = false,
  ): Promise<LoadedSet> {
    lastUpstreamAt = now();
    const lease =
      !io.coordinator && io.cache ? createColoLease(io.cache, clock, tierLog, TIER_READ_TIMEOUT_MS) : undefined;
    if (lease) {
      const fetchedNearby = await waitForColoFetch(io, lease, satisfied);
      if (fetchedNearby) return fetchedNearby;
      io.waitUntil(lease.take(key, COLO_FETCH_LEASE_MS));
    }
    let fetched: UpstreamSet;
    try {
      fetched = await fetchUpstream(io, upstreamDeps, loaded?.record, kid, knownJwksUri());
    } catch (error) {
      if (lease) io.waitUntil(lease.fail(key, cooldownMs));
      throw error;
    }
    if (fetched.from === 'issuer') {
      log('jwks_fetched', {
        jwksUri: fetched.record.jwksUri,
        keys: fetched.record.keys.length,
        changed: fetched.record.hash !== loaded?.record.hash,
      });
    }
    share(io, fetched, writeKv);
    return install(fetched.record, fetched.from);
  }

  /**
   * While another isolate of the data centre holds the fetch lease, look for its copy every
   * `COLO_LEASE_POLL_MS`: the set it fetched when it is newer than ours and `satisfied`, or its
   * failure (thrown, as if this isolate had fetched and failed). `undefined`: no lease, or it
   * lapsed with nothing to show, so this isolate fetches itself.
   */
  async function waitForColoFetch(
    io: ResolverIo,
    lease: ColoLease,
    satisfied: (set: LoadedSet) => Promise<boolean>,
  ): Promise<LoadedSet | undefined> {
    const cache = sharedTiers(io, tierLog, clock).cache;
    for (let held = await lease.held(key); held; held = await lease.held(key)) {
      if (held.failed) throw new KeySourceError('issuer failing (another isolate of this data centre)');
      await new Promise<void>((resolve) => clock.after(COLO_LEASE_POLL_MS, resolve));
      const record = await cache?.get(key);
      if (record && (!loaded || record.fetchedAt > loaded.record.fetchedAt)) {
        const set = install(record, 'cache_api');
        if (await satisfied(set)) return set;
      }
    }
    return undefined;
  }

  async function loadCold(io: ResolverIo): Promise<LoadedSet> {
    const shared = await readShared(sharedTiers(io, tierLog, clock), key, io);
    if (shared) {
      if (shared.tier === 'kv') kvHash = shared.record.hash;
      return install(shared.record, shared.tier);
    }
    // Nothing in KV either: this fetch may fill it.
    return unavailableOnFailure(fromUpstream(io, async () => true, undefined, true));
  }

  async function unavailableOnFailure(load: Promise<LoadedSet>): Promise<LoadedSet> {
    try {
      return await load;
    } catch (error) {
      log('jwks_unavailable', { issuer: options.issuer, reason: String(error) });
      throw new VerifierError('jwks_unavailable', undefined, { cause: error });
    }
  }

  /**
   * The data centre's copy (Cache API), installed when it is newer than ours: another isolate of
   * this data centre may already hold the set we lack. It is not an upstream fetch, so no cooldown
   * applies; it is bounded on its own, to one read per `COLO_READ_INTERVAL_MS`, so a flood of
   * made-up kids is not a Cache API read per request.
   */
  async function newerFromColo(io: ResolverIo, current: LoadedSet): Promise<LoadedSet | undefined> {
    if (!intervalPassed(lastColoReadAt, now(), COLO_READ_INTERVAL_MS)) return undefined;
    lastColoReadAt = now();
    const record = await sharedTiers(io, tierLog, clock).cache?.get(key);
    if (!record || record.fetchedAt <= current.record.fetchedAt) return undefined;
    return install(record, 'cache_api');
  }

  /**
   * For a kid our set lacks, one shared refresh: the data centre's copy first (another isolate may
   * have fetched the set that has it; this is allowed inside the cooldown), then, outside the
   * cooldown, upstream.
   */
  async function refreshForMissingKey(
    io: ResolverIo,
    current: LoadedSet,
    header: JWSHeaderParameters,
    mayFetch: boolean,
  ): Promise<LoadedSet> {
    const colo = await newerFromColo(io, current);
    if (colo && (await findKeys(colo, header))) return colo;
    if (!mayFetch) return colo ?? current;
    const hasKey = async (set: LoadedSet) => (await findKeys(set, header)) !== undefined;
    return fromUpstream(io, hasKey, typeof header.kid === 'string' ? header.kid : undefined);
  }

  /** A refresh that asks the data centre first: a fresh, newer set there saves the upstream fetch. */
  async function refreshColoFirst(io: ResolverIo): Promise<LoadedSet> {
    const current = loaded;
    const colo = current && (await newerFromColo(io, current));
    if (colo && isFresh(colo)) return colo;
    return fromUpstream(io, async (set) => isFresh(set));
  }

  function isFresh(set: LoadedSet): boolean {
    return freshness(set.record, now()) === 'fresh';
  }

  function refreshInBackground(io: ResolverIo): void {
    if (flight.running || !intervalPassed(lastUpstreamAt, now(), cooldownMs)) return;
    io.waitUntil(
      flight
        .run(() => refreshColoFirst(io))
        .catch((error) => {
          log('jwks_refresh_failed', { issuer: options.issuer, reason: String(error), servingStale: true });
        }),
    );
  }

  function findKeys(set: LoadedSet, header: JWSHeaderParameters): Promise<readonly CryptoKey[] | undefined> {
    const found = set.index.find(header);
    if (found === undefined) return Promise.resolve(undefined);
    return found.catch((error) => {
      log('jwks_key_import_failed', { reason: String(error) });
      return undefined;
    });
  }

  /** Whether a set may be used now; a stale one starts a background refresh as a side effect. */
  function usable(set: LoadedSet, io: ResolverIo): boolean {
    const age = freshness(set.record, now());
    if (age === 'stale') refreshInBackground(io);
    return age !== 'expired';
  }

  async function currentSet(io: ResolverIo): Promise<LoadedSet> {
    const set = loaded ?? (await flight.run(() => loadCold(io)));
    if (usable(set, io)) return set;
    return unavailableOnFailure(flight.run(() => refreshColoFirst(io)));
  }

  /** A set that lacks the token's key: wait on a refresh already running, or start one if the bounds allow. */
  async function refreshedFor(io: ResolverIo, set: LoadedSet, header: JWSHeaderParameters): Promise<LoadedSet> {
    if (flight.running) return flight.wait(() => loaded).catch(() => set);
    const mayFetch = intervalPassed(lastUpstreamAt, now(), cooldownMs);
    if (!mayFetch && !intervalPassed(lastColoReadAt, now(), COLO_READ_INTERVAL_MS))
      throw new VerifierError('unknown_kid');
    return flight
      .run(() => refreshForMissingKey(io, set, header, mayFetch))
      .catch((error) => {
        log('jwks_refresh_failed', { issuer: options.issuer, reason: String(error), servingStale: true });
        return set;
      });
  }

  return {
    currentVersion(io) {
      return loaded && usable(loaded, io) ? loaded.record.hash : undefined;
    },

    async getKeys(header, io, decision) {
      const inMemory = loaded;
      const set = await currentSet(io);
      const keys = await findKeys(set, header);
      if (keys) return noted(decision, header, keys, set === inMemory ? 'memory' : set.source);
      const refreshed = await refreshedFor(io, set, header);
      const found = await findKeys(refreshed, header);
      if (found) return noted(decision, header, found, refreshed.source);
      throw new VerifierError('unknown_kid');
    },

    async refresh(io) {
      try {
        await flight.run(async () => {
          // The scheduled refresh is KV's writer when no coordinator is: it skips a set KV already holds.
          kvHash ??= io.coordinator ? undefined : (await sharedTiers(io, tierLog, clock).kv?.get(key))?.hash;
          return fromUpstream(io, async () => false, undefined, true);
        });
      } catch (error) {
        log('jwks_refresh_failed', {
          issuer: options.issuer,
          reason: String(error),
          servingStale: loaded !== undefined,
        });
      }
    },
  };
}

/** Records on the request's decision where its key came from, and the key's kid (one we hold). */
function noted(
  decision: Decision | undefined,
  header: JWSHeaderParameters,
  keys: readonly CryptoKey[],
  tier: KeyTier,
): readonly CryptoKey[] {
  if (decision) {
    decision.keyTier = tier;
    if (typeof header.kid === 'string') decision.kid = header.kid;
  }
  return keys;
}
