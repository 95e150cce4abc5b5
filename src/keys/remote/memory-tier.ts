import type { JWSHeaderParameters } from 'jose';
import type { KeyTier } from '../../observe/decision.ts';
import type { Logger } from '../../observe/log.ts';
import { createKeyIndex, type KeyIndex } from './key-index.ts';
import type { JwksRecord } from './record.ts';

/** A key set in isolate memory: the record and its imported keys. */
export interface LoadedSet {
  readonly record: JwksRecord;
  readonly index: KeyIndex;
  /** The tier this set was read from into memory. */
  readonly source: Exclude<KeyTier, 'token_cache' | 'memory'>;
}

/** One key source's memory tier: the set this isolate holds, and the JWKS URI it was discovered at. */
export interface MemoryTier {
  readonly loaded: LoadedSet | undefined;
  /** Installs a record read or fetched by any path; returns what memory holds afterwards. */
  install(record: JwksRecord, source: LoadedSet['source']): LoadedSet;
  /** A discovered JWKS URI still worth using (one TTL), so a refetch skips the metadata. */
  knownJwksUri(now: number): string | undefined;
  /** The keys for this header in `set`, or `undefined` (a failed import is logged and counts as none). */
  findKeys(set: LoadedSet, header: JWSHeaderParameters): Promise<readonly CryptoKey[] | undefined>;
}

export function createMemoryTier(discovering: boolean, ttlSeconds: number, log: Logger): MemoryTier {
  let loaded: LoadedSet | undefined;
  let discovered: { readonly uri: string; readonly at: number } | undefined;
  return {
    get loaded() {
      return loaded;
    },
    // An older concurrent load must never replace a newer set; an unchanged set keeps its imported keys.
    install(record, source) {
      if (loaded && loaded.record.fetchedAt > record.fetchedAt) return loaded;
      const index = loaded && loaded.record.hash === record.hash ? loaded.index : createKeyIndex(record.keys);
      loaded = { record, index, source };
      if (discovering) discovered = { uri: record.jwksUri, at: record.fetchedAt };
      return loaded;
    },
    knownJwksUri(now) {
      return discovered && now - discovered.at < ttlSeconds * 1000 ? discovered.uri : undefined;
    },
    findKeys(set, header) {
      const found = set.index.find(header);
      if (found === undefined) return Promise.resolve(undefined);
      return found.catch((error) => {
        log('jwks_key_import_failed', { reason: String(error) });
        return undefined;
      });
    },
  };
}
