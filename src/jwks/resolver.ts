import type { JWSHeaderParameters } from 'jose';
import {
  COLO_READ_INTERVAL_MS,
  JWKS_FETCH_TIMEOUT_MS,
  JWKS_MAX_SIZE_BYTES,
  JWKS_MAX_STALE_SECONDS,
  MIN_ISSUER_MAX_AGE_SECONDS,
  SHARED_REFRESH_WAIT_MS,
} from '../constants.ts';
import { VerifierError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Decision, KeyTier } from '../observe/decision.ts';
import { discoverJwksUri } from './discovery.ts';
import { fetchJson } from './fetch-json.ts';
import { createKeyIndex, type KeyIndex } from './key-index.ts';
import { parseJwks } from './parse-jwks.ts';
import { hashKeys, type JwksRecord } from './record.ts';
import { createCacheApiStore } from './store-cache-api.ts';
import { createKvStore } from './store-kv.ts';
import { oncePerCause, type TierStore } from './tier-store.ts';

/** Per-request handles: the bindings may differ between requests, the resolver's state does not. */
export interface ResolverIo {
  readonly kv: KVNamespace | undefined;
  readonly cache: Cache | undefined;
  waitUntil(promise: Promise<unknown>): void;
}

export interface JwksResolverOptions {
  readonly issuer: string;
  /** `undefined`: discover from the issuer's metadata. */
  readonly jwksUri: string | undefined;
  readonly ttlSeconds: number;
  readonly cooldownSeconds: number;
  readonly now: () => number;
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
  /** Fetches from the issuer now and writes every tier (the scheduled refresh). */
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
 * Lookups go memory → Cache API → KV → issuer. Past its TTL a set is served while a
 * background refresh runs, and for up to `JWKS_MAX_STALE_SECONDS` while the issuer fails.
 * Every issuer fetch, whatever caused it, starts a cooldown during which an unknown `kid`
 * cannot cause another, so a flood of made-up kids costs one fetch per cooldown.
 */
export function createJwksResolver(options: JwksResolverOptions): JwksResolver {
  const { now, log } = options;
  const cacheKey = options.jwksUri ?? `discovery:${options.issuer}`;
  const ttlMs = options.ttlSeconds * 1000;
  const cooldownMs = options.cooldownSeconds * 1000;

  let loaded: LoadedSet | undefined;
  /** Hash of the set KV is known to hold, so unchanged sets are not rewritten (KV: ~1 write/s per key). */
  let kvHash: string | undefined;
  let inflight: Promise<LoadedSet> | undefined;
  let lastIssuerFetchAt = Number.NEGATIVE_INFINITY;
  let lastColoReadAt = Number.NEGATIVE_INFINITY;
  let discovered: { readonly uri: string; readonly at: number } | undefined;
  /** With nothing in memory, every request reaches the tiers: a tier that is down is logged once per cooldown, not per request. */
  const tierLog = oncePerCause(log, now, cooldownMs);

  function tiers(io: ResolverIo): { cache?: TierStore; kv?: TierStore } {
    return {
      ...(io.cache ? { cache: createCacheApiStore(io.cache, tierLog) } : {}),
      ...(io.kv ? { kv: createKvStore(io.kv, tierLog) } : {}),
    };
  }

  /** An older concurrent load must never replace a newer set; an unchanged set keeps its imported keys. */
  function install(record: JwksRecord, source: LoadedSet['source']): LoadedSet {
    if (loaded && loaded.record.fetchedAt > record.fetchedAt) return loaded;
    const index = loaded && loaded.record.hash === record.hash ? loaded.index : createKeyIndex(record.keys);
    loaded = { record, index, source };
    if (!options.jwksUri) discovered = { uri: record.jwksUri, at: record.fetchedAt };
    return loaded;
  }

  async function currentJwksUri(): Promise<string> {
    if (options.jwksUri) return options.jwksUri;
    if (discovered && now() - discovered.at < ttlMs) return discovered.uri;
    const uri = await discoverJwksUri(options.issuer, options.fetch);
    discovered = { uri, at: now() };
    return uri;
  }

  function keepSeconds(record: JwksRecord): number {
    return record.ttlSeconds + JWKS_MAX_STALE_SECONDS;
  }

  async function fetchFromIssuer(io: ResolverIo): Promise<LoadedSet> {
    lastIssuerFetchAt = now();
    const jwksUri = await currentJwksUri();
    const { body, maxAgeSeconds } = await fetchJson(jwksUri, {
      timeoutMs: JWKS_FETCH_TIMEOUT_MS,
      maxBytes: JWKS_MAX_SIZE_BYTES,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const keys = parseJwks(body, log);
    const record: JwksRecord = {
      jwksUri,
      keys,
      fetchedAt: now(),
      // The issuer may shorten our TTL with max-age, never lengthen it, and never below
      // min(60 s, our TTL): a configured 30 s stays 30 s, a max-age=0 issuer is not refetched per request.
      ttlSeconds: Math.min(
        options.ttlSeconds,
        Math.max(maxAgeSeconds ?? options.ttlSeconds, MIN_ISSUER_MAX_AGE_SECONDS),
      ),
      hash: await hashKeys(keys),
    };
    log('jwks_fetched', { jwksUri, keys: keys.length, changed: record.hash !== loaded?.record.hash });
    const { cache, kv } = tiers(io);
    if (cache) io.waitUntil(cache.put(cacheKey, record, keepSeconds(record)));
    if (kv && record.hash !== kvHash) {
      kvHash = record.hash;
      io.waitUntil(kv.put(cacheKey, record, keepSeconds(record)));
    }
    return install(record, 'issuer');
  }

  async function loadCold(io: ResolverIo): Promise<LoadedSet> {
    const { cache, kv } = tiers(io);
    const fromCache = await cache?.get(cacheKey);
    if (fromCache) return install(fromCache, 'cache_api');
    const fromKv = await kv?.get(cacheKey);
    if (fromKv) {
      kvHash = fromKv.hash;
      if (cache) io.waitUntil(cache.put(cacheKey, fromKv, keepSeconds(fromKv)));
      return install(fromKv, 'kv');
    }
    try {
      return await fetchFromIssuer(io);
    } catch (error) {
      log('jwks_unavailable', { issuer: options.issuer, reason: String(error) });
      throw new VerifierError('jwks_unavailable', undefined, { cause: error });
    }
  }

  /** Concurrent requests share one load instead of each fetching. */
  function shared(start: () => Promise<LoadedSet>): Promise<LoadedSet> {
    if (inflight) return waitForShared(inflight);
    const load = start().finally(() => {
      if (inflight === load) inflight = undefined;
    });
    inflight = load;
    return load;
  }

  /**
   * A promise created by another request can hang on Workers once that request ends
   * (panva/jose#355, #509), so a waiter gives up after a bound and uses what it has.
   */
  async function waitForShared(load: Promise<LoadedSet>): Promise<LoadedSet> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const fallback = new Promise<LoadedSet>((resolve, reject) => {
      timer = setTimeout(() => {
        if (inflight === load) inflight = undefined;
        if (loaded) resolve(loaded);
        else reject(new VerifierError('jwks_unavailable'));
      }, SHARED_REFRESH_WAIT_MS);
    });
    try {
      return await Promise.race([load, fallback]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /**
   * The data centre's copy (Cache API), installed when it is newer than ours: another isolate of
   * this data centre may already hold the set we lack. It is not an issuer fetch, so no cooldown
   * applies; it is bounded on its own, to one read per `COLO_READ_INTERVAL_MS`, so a flood of
   * made-up kids is not a Cache API read per request.
   */
  async function newerFromColo(io: ResolverIo, current: LoadedSet): Promise<LoadedSet | undefined> {
    if (now() - lastColoReadAt < COLO_READ_INTERVAL_MS) return undefined;
    lastColoReadAt = now();
    const record = await tiers(io).cache?.get(cacheKey);
    if (!record || record.fetchedAt <= current.record.fetchedAt) return undefined;
    return install(record, 'cache_api');
  }

  /**
   * For a kid our set lacks, one shared refresh: the data centre's copy first (another isolate may
   * have fetched the set that has it; this is allowed inside the cooldown), then, outside the
   * cooldown, the issuer.
   */
  async function refreshForMissingKey(
    io: ResolverIo,
    current: LoadedSet,
    header: JWSHeaderParameters,
    mayFetch: boolean,
  ): Promise<LoadedSet> {
    const colo = await newerFromColo(io, current);
    if (colo && (await findKeys(colo, header))) return colo;
    return mayFetch ? fetchFromIssuer(io) : (colo ?? current);
  }

  /** A refresh that asks the data centre first: a fresh, newer set there saves the issuer fetch. */
  async function refreshColoFirst(io: ResolverIo): Promise<LoadedSet> {
    const current = loaded;
    const colo = current && (await newerFromColo(io, current));
    if (colo && now() - colo.record.fetchedAt < colo.record.ttlSeconds * 1000) return colo;
    return fetchFromIssuer(io);
  }

  function refreshInBackground(io: ResolverIo): void {
    if (inflight || now() - lastIssuerFetchAt < cooldownMs) return;
    io.waitUntil(
      shared(() => refreshColoFirst(io)).catch((error) => {
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
    const age = now() - set.record.fetchedAt;
    if (age < set.record.ttlSeconds * 1000) return true;
    if (age < (set.record.ttlSeconds + JWKS_MAX_STALE_SECONDS) * 1000) {
      refreshInBackground(io);
      return true;
    }
    // Too old to trust even as a fallback: keys may have been revoked since.
    return false;
  }

  async function currentSet(io: ResolverIo): Promise<LoadedSet> {
    const set = loaded ?? (await shared(() => loadCold(io)));
    if (usable(set, io)) return set;
    try {
      return await shared(() => refreshColoFirst(io));
    } catch (error) {
      log('jwks_unavailable', { issuer: options.issuer, reason: String(error) });
      throw new VerifierError('jwks_unavailable', undefined, { cause: error });
    }
  }

  return {
    currentVersion(io) {
      return loaded && usable(loaded, io) ? loaded.record.hash : undefined;
    },

    async getKeys(header, io, decision) {
      const inMemory = loaded;
      let set = await currentSet(io);
      const keys = await findKeys(set, header);
      if (keys) return noted(decision, header, keys, set === inMemory ? 'memory' : set.source);
      if (inflight) {
        set = await waitForShared(inflight).catch(() => set);
      } else {
        const mayFetch = now() - lastIssuerFetchAt >= cooldownMs;
        if (!mayFetch && now() - lastColoReadAt < COLO_READ_INTERVAL_MS) throw new VerifierError('unknown_kid');
        const current = set;
        set = await shared(() => refreshForMissingKey(io, current, header, mayFetch)).catch((error) => {
          log('jwks_refresh_failed', { issuer: options.issuer, reason: String(error), servingStale: true });
          return current;
        });
      }
      const refreshed = await findKeys(set, header);
      if (refreshed) return noted(decision, header, refreshed, set.source);
      throw new VerifierError('unknown_kid');
    },

    async refresh(io) {
      try {
        await shared(() => fetchFromIssuer(io));
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
