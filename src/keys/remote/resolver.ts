import type { JWSHeaderParameters } from 'jose';
import { COORDINATOR_MIN_REFETCH_MS, SHARED_REFRESH_WAIT_MS, UNKNOWN_KID_WAIT_MAX_MS } from '../../constants.ts';
import { VerifierError } from '../../errors.ts';
import type { Decision, KeyTier } from '../../observe/decision.ts';
import type { Logger } from '../../observe/log.ts';
import { type Clock, sleep } from '../../shared/clock.ts';
import { createColoCopy } from './colo-copy.ts';
import { type KeySource, sourceKey } from './issuer-fetch.ts';
import { createMemoryTier, type LoadedSet } from './memory-tier.ts';
import { freshness, intervalPassed } from './refresh-policy.ts';
import { type ResolverIo, readShared, sharedTiers } from './shared-tiers.ts';
import { createSingleFlight } from './single-flight.ts';
import { oncePerCause } from './tier-store.ts';
import { createUpstreamRefresh } from './upstream-refresh.ts';

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

/**
 * One key source's cache, built once per isolate: its memory tier (`memory-tier.ts`) holds the
 * set. Lookups go memory → Cache API → KV (`readShared`) → the data centre's fetch lease →
 * coordinator or issuer (`upstream-refresh.ts`); when a set may be used and when to refresh is
 * `freshness` (fresh, stale-while-revalidate, stale-if-error, expired). Every refresh past the
 * shared tiers, whatever caused it, starts a cooldown during which an unknown `kid` cannot cause
 * another, so a flood of made-up kids costs one fetch per cooldown; the data centre's copy is read
 * first (`colo-copy.ts`), inside the cooldown too, at most once per `COLO_READ_INTERVAL_MS`.
 */
export function createJwksResolver(options: JwksResolverOptions): JwksResolver {
  const { clock, log } = options;
  const now = clock.now;
  const key = sourceKey(options);
  const cooldownMs = options.cooldownSeconds * 1000;
  /** With nothing in memory, every request reaches the tiers: a tier that is down is logged once per cooldown, not per request. */
  const tierLog = oncePerCause(log, now, cooldownMs);
  const memory = createMemoryTier(options.jwksUri === undefined, options.ttlSeconds, log);
  const upstream = createUpstreamRefresh({
    source: { issuer: options.issuer, jwksUri: options.jwksUri, ttlSeconds: options.ttlSeconds },
    key,
    cooldownSeconds: options.cooldownSeconds,
    clock,
    log,
    tierLog,
    memory,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const colo = createColoCopy(key, memory, clock, tierLog);
  const flight = createSingleFlight<LoadedSet>(clock, SHARED_REFRESH_WAIT_MS, () => memory.loaded);
  const isFresh = (set: LoadedSet) => freshness(set.record, now()) === 'fresh';
  const mayGoUpstream = () => intervalPassed(upstream.lastAt, now(), cooldownMs);
  /**
   * How long until this isolate may go upstream for a kid its set lacks: with the coordinator,
   * every `COORDINATOR_MIN_REFETCH_MS` (the coordinator bounds the issuer for the whole network,
   * the fetch lease the data centre's calls to it); without, every cooldown.
   */
  const untilUpstreamForKid = (io: ResolverIo) =>
    Math.max(0, upstream.lastAt + (io.coordinator ? COORDINATOR_MIN_REFETCH_MS : cooldownMs) - now());

  async function loadCold(io: ResolverIo): Promise<LoadedSet> {
    const shared = await readShared(sharedTiers(io, tierLog, clock), key, io);
    if (shared) {
      if (shared.tier === 'kv') upstream.knowKv(shared.record.hash);
      return memory.install(shared.record, shared.tier);
    }
    // Nothing in KV either. A request never writes KV (its one writer is the coordinator, else
    // the scheduled refresh): on a first deploy every data centre would fill it at once.
    return unavailableOnFailure(upstream.run(io, async () => true));
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
    const hasKey = async (set: LoadedSet) => (await memory.findKeys(set, header)) !== undefined;
    const fromColo = await colo.newer(io, current);
    if (fromColo && (await hasKey(fromColo))) return fromColo;
    if (!mayFetch) return fromColo ?? current;
    return upstream.run(io, hasKey, typeof header.kid === 'string' ? header.kid : undefined);
  }

  /** A refresh that asks the data centre first: a fresh, newer set there saves the upstream fetch. */
  async function refreshColoFirst(io: ResolverIo): Promise<LoadedSet> {
    const current = memory.loaded;
    const fromColo = current && (await colo.newer(io, current));
    if (fromColo && isFresh(fromColo)) return fromColo;
    return upstream.run(io, async (set) => isFresh(set));
  }

  function refreshInBackground(io: ResolverIo): void {
    if (flight.running || !mayGoUpstream()) return;
    io.waitUntil(
      flight
        .run(() => refreshColoFirst(io))
        .catch((error) => {
          log('jwks_refresh_failed', { issuer: options.issuer, reason: String(error), servingStale: true });
        }),
    );
  }

  /** Whether a set may be used now; a stale one starts a background refresh as a side effect. */
  function usable(set: LoadedSet, io: ResolverIo): boolean {
    const age = freshness(set.record, now());
    if (age === 'stale') refreshInBackground(io);
    return age !== 'expired';
  }

  async function currentSet(io: ResolverIo): Promise<LoadedSet> {
    const set = memory.loaded ?? (await flight.run(() => loadCold(io)));
    if (usable(set, io)) return set;
    return unavailableOnFailure(flight.run(() => refreshColoFirst(io)));
  }

  /**
   * A set that lacks the token's key: wait on a refresh already running, or start one if the bounds
   * allow. When the only obstacle is an interval that ends within `UNKNOWN_KID_WAIT_MAX_MS`, wait
   * for it and the one fetch it allows (shared by every request waiting) rather than refuse a
   * valid new key.
   */
  async function refreshedFor(io: ResolverIo, set: LoadedSet, header: JWSHeaderParameters): Promise<LoadedSet> {
    // A refresh already running is waited on for the missing kid's bound at most: a flood of made-up
    // kids must not hold requests for as long as a stuck refresh may take.
    const waitOnFlight = () => flight.wait(() => memory.loaded, UNKNOWN_KID_WAIT_MAX_MS).catch(() => set);
    if (flight.running) return waitOnFlight();
    const wait = untilUpstreamForKid(io);
    if (wait > 0 && wait <= UNKNOWN_KID_WAIT_MAX_MS) {
      await sleep(clock, wait);
      if (flight.running) return waitOnFlight();
    }
    const mayFetch = untilUpstreamForKid(io) === 0;
    if (!mayFetch && !colo.mayRead) throw new VerifierError('unknown_kid');
    return flight
      .run(() => refreshForMissingKey(io, set, header, mayFetch))
      .catch((error) => {
        log('jwks_refresh_failed', { issuer: options.issuer, reason: String(error), servingStale: true });
        return set;
      });
  }

  return {
    currentVersion(io) {
      const { loaded } = memory;
      return loaded && usable(loaded, io) ? loaded.record.hash : undefined;
    },

    async getKeys(header, io, decision) {
      const inMemory = memory.loaded;
      const set = await currentSet(io);
      const keys = await memory.findKeys(set, header);
      if (keys) return noted(decision, header, keys, set === inMemory ? 'memory' : set.source);
      const refreshed = await refreshedFor(io, set, header);
      const found = await memory.findKeys(refreshed, header);
      if (found) return noted(decision, header, found, refreshed.source);
      throw new VerifierError('unknown_kid');
    },

    async refresh(io) {
      try {
        await flight.run(async () => {
          // The scheduled refresh is KV's writer when no coordinator is: it skips a set KV already holds.
          if (!io.coordinator && !upstream.kvKnown) {
            const held = await sharedTiers(io, tierLog, clock).kv?.get(key);
            if (held) upstream.knowKv(held.hash);
          }
          return upstream.run(io, async () => false, undefined, true);
        });
      } catch (error) {
        log('jwks_refresh_failed', {
          issuer: options.issuer,
          reason: String(error),
          servingStale: memory.loaded !== undefined,
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
