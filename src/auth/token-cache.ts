import type { JWTPayload } from 'jose';

export interface VerifiedTokenCache {
  /** The payload of a token verified earlier with key set `version`, while it has not expired. */
  get(token: string, nowMs: number, version: string | undefined): JWTPayload | undefined;
  set(token: string, payload: JWTPayload, version: string | undefined): void;
}

/**
 * Per-isolate cache of verified tokens, so a repeated token skips the signature check.
 * Keyed by the whole token (the signature is part of the key, so a tampered token never hits);
 * an entry is used only before its `exp` (no clock skew) and only with the key set it was
 * verified with: when the set changes (rotation, revocation) the whole cache is dropped.
 * Least recently used entries go first once `maxEntries` is reached.
 */
export function createVerifiedTokenCache(maxEntries: number): VerifiedTokenCache {
  const entries = new Map<string, { payload: JWTPayload; expMs: number }>();
  let cachedVersion: string | undefined;

  /** Entries belong to one key set; seeing another one drops them all. */
  function adopt(version: string): void {
    if (version === cachedVersion) return;
    entries.clear();
    cachedVersion = version;
  }

  return {
    get(token, nowMs, version) {
      if (version === undefined) return undefined;
      adopt(version);
      const entry = entries.get(token);
      if (!entry) return undefined;
      if (nowMs >= entry.expMs) {
        entries.delete(token);
        return undefined;
      }
      entries.delete(token);
      entries.set(token, entry);
      return entry.payload;
    },
    set(token, payload, version) {
      if (version === undefined || typeof payload.exp !== 'number') return;
      adopt(version);
      entries.set(token, { payload, expMs: payload.exp * 1000 });
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
  };
}
