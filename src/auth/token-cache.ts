import type { JWTPayload } from 'jose';

export interface VerifiedTokenCache {
  /** The payload of a token verified earlier with key set `version`, while it has not expired. */
  get(token: string, nowMs: number, version: string | undefined): JWTPayload | undefined;
  set(token: string, payload: JWTPayload, version: string | undefined): void;
  /** Entries held now; never more than `maxEntries`. */
  readonly size: number;
}

interface Entry {
  readonly payload: JWTPayload;
  readonly expMs: number;
}

/**
 * Per-isolate cache of verified tokens, so a repeated token skips the signature check.
 * Keyed by the whole token (the signature is part of the key, so a tampered token never hits);
 * an entry is used only before its `exp` (no clock skew) and only with the key set it was
 * verified with: when the set changes (rotation, revocation) the whole cache is dropped.
 *
 * Bounded LRU in two generations of `maxEntries / 2`: a hit in the older one moves the entry
 * to the newer one, and when the newer one fills, the older one is dropped whole. A token used
 * within the last `maxEntries / 2` distinct tokens is always kept. Dropping a whole Map is
 * O(1); evicting one by one from a Map costs a scan past its deleted slots on every miss, and
 * with unique tokens every request is a miss.
 */
export function createVerifiedTokenCache(maxEntries: number): VerifiedTokenCache {
  const generationSize = Math.max(1, Math.floor(maxEntries / 2));
  let newer = new Map<string, Entry>();
  let older = new Map<string, Entry>();
  let cachedVersion: string | undefined;

  /** Entries belong to one key set; seeing another one drops them all. */
  function adopt(version: string): void {
    if (version === cachedVersion) return;
    newer = new Map();
    older = new Map();
    cachedVersion = version;
  }

  function insert(token: string, entry: Entry): void {
    newer.set(token, entry);
    if (newer.size >= generationSize) {
      older = newer;
      newer = new Map();
    }
  }

  return {
    get(token, nowMs, version) {
      if (version === undefined) return undefined;
      adopt(version);
      const recent = newer.get(token);
      if (recent) {
        if (nowMs < recent.expMs) return recent.payload;
        newer.delete(token);
        return undefined;
      }
      const entry = older.get(token);
      if (!entry) return undefined;
      older.delete(token);
      if (nowMs >= entry.expMs) return undefined;
      insert(token, entry);
      return entry.payload;
    },
    set(token, payload, version) {
      if (version === undefined || typeof payload.exp !== 'number') return;
      adopt(version);
      older.delete(token);
      insert(token, { payload, expMs: payload.exp * 1000 });
    },
    get size() {
      return newer.size + older.size;
    },
  };
}
