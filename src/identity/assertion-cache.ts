/**
 * Signed assertions kept for reuse, per isolate and assertion setting, so that a repeated token
 * costs no signature: keyed by the verified payload segment (the same payload asserts the same
 * identity), each used until half its lifetime has passed, and only with the keys that signed
 * it (a rotated secret is a miss).
 *
 * Bounded in two generations of `maxEntries / 2`, as the verified-token cache is: a hit in the
 * older one moves the entry to the newer one, and when the newer one fills, the older one is
 * dropped whole (O(1), where evicting one entry at a time costs a scan on every miss).
 */
export interface AssertionCache<Keys> {
  /** The assertion signed for `payload` with `keys`, while it may still be reused at `nowMs`. */
  get(payload: string, keys: Keys, nowMs: number): string | undefined;
  set(payload: string, keys: Keys, entry: { readonly jwt: string; readonly reuseUntilMs: number }): void;
  /** Entries held now; never more than `maxEntries`. */
  readonly size: number;
}

interface Entry<Keys> {
  readonly jwt: string;
  readonly keys: Keys;
  readonly reuseUntilMs: number;
}

export function createAssertionCache<Keys>(maxEntries: number): AssertionCache<Keys> {
  const generationSize = Math.max(1, Math.floor(maxEntries / 2));
  let newer = new Map<string, Entry<Keys>>();
  let older = new Map<string, Entry<Keys>>();

  function insert(payload: string, entry: Entry<Keys>): void {
    newer.set(payload, entry);
    if (newer.size >= generationSize) {
      older = newer;
      newer = new Map();
    }
  }

  return {
    get(payload, keys, nowMs) {
      const recent = newer.get(payload);
      if (recent) return recent.keys === keys && nowMs < recent.reuseUntilMs ? recent.jwt : undefined;
      const entry = older.get(payload);
      if (!entry) return undefined;
      older.delete(payload);
      if (entry.keys !== keys || nowMs >= entry.reuseUntilMs) return undefined;
      insert(payload, entry);
      return entry.jwt;
    },
    set(payload, keys, { jwt, reuseUntilMs }) {
      older.delete(payload);
      insert(payload, { jwt, keys, reuseUntilMs });
    },
    get size() {
      return newer.size + older.size;
    },
  };
}
