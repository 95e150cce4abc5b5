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

/** Fingerprints the doorkeeper holds (a power of two; 32 KB). */
const DOORKEEPER_SLOTS = 8_192;
/** Characters hashed from the end of the token: the signature, which differs between any two tokens. */
const FINGERPRINT_CHARS = 24;

/** FNV-1a over the token's last characters; never 0, so an empty slot never matches. */
function fingerprintOf(token: string): number {
  let hash = 0x811c9dc5;
  for (let i = Math.max(0, token.length - FINGERPRINT_CHARS); i < token.length; i++) {
    hash = Math.imul(hash ^ token.charCodeAt(i), 0x01000193);
  }
  return (hash | 1) >>> 0;
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
 *
 * A token is admitted on its second verification: the first only leaves a 32-bit fingerprint
 * in a fixed table (a TinyLFU-style doorkeeper). A stream of unique tokens then allocates
 * nothing that outlives its request, where admitting each one filled the old generation with
 * entries the next full GC has to sweep; a repeated token skips the crypto from its third use.
 * A fingerprint collision only admits a token early, and only one that verified.
 */
export function createVerifiedTokenCache(maxEntries: number): VerifiedTokenCache {
  const generationSize = Math.max(1, Math.floor(maxEntries / 2));
  let newer = new Map<string, Entry>();
  let older = new Map<string, Entry>();
  let cachedVersion: string | undefined;
  const seen = new Uint32Array(DOORKEEPER_SLOTS);

  /** Whether `token` verified once before (by its fingerprint); remembers it if not. */
  function seenBefore(token: string): boolean {
    const fingerprint = fingerprintOf(token);
    const slot = fingerprint & (DOORKEEPER_SLOTS - 1);
    if (seen[slot] === fingerprint) return true;
    seen[slot] = fingerprint;
    return false;
  }

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
      if (!seenBefore(token)) return;
      older.delete(token);
      insert(token, { payload, expMs: payload.exp * 1000 });
    },
    get size() {
      return newer.size + older.size;
    },
  };
}
