/**
 * Signed assertions kept for reuse, per isolate and assertion setting, so that a repeated token
 * costs no signature: keyed by the verifying issuer and the verified payload segment (the same
 * payload from the same issuer asserts the same identity), each used until its reuse time, and
 * only with the keys that signed it (a rotated secret is a miss).
 *
 * In front of that, the verified payload object itself: a token served from the verified-token
 * cache comes with the same object every time, and finding an object in a WeakMap costs no
 * hashing of the payload text. The WeakMap holds nothing the verified-token cache has dropped.
 *
 * Bounded in two generations of `maxEntries / 2`, as the verified-token cache is: a hit in the
 * older one moves the entry to the newer one, and when the newer one fills, the older one is
 * dropped whole (O(1), where evicting one entry at a time costs a scan on every miss).
 */
export interface AssertionCache<Keys> {
  /**
   * The assertion signed for this verified payload (its object `claims`, its text `payload`, the
   * id of the issuer that verified it) with `keys`, while it may still be reused at `nowMs`.
   */
  get(claims: object, issuerId: string, payload: string, keys: Keys, nowMs: number): string | undefined;
  set(
    claims: object,
    issuerId: string,
    payload: string,
    keys: Keys,
    entry: { readonly jwt: string; readonly reuseUntilMs: number },
  ): void;
  /** Entries held now; never more than `maxEntries`. */
  readonly size: number;
}

interface Entry<Keys> {
  readonly jwt: string;
  readonly keys: Keys;
  readonly reuseUntilMs: number;
}

/** Built only when the payload object is not found: an issuer id holds no line break, so no two pairs make one text. */
const textKey = (issuerId: string, payload: string) => `${issuerId}\n${payload}`;

export function createAssertionCache<Keys>(maxEntries: number): AssertionCache<Keys> {
  const generationSize = Math.max(1, Math.floor(maxEntries / 2));
  let newer = new Map<string, Entry<Keys>>();
  let older = new Map<string, Entry<Keys>>();
  const byObject = new WeakMap<object, Entry<Keys>>();
  const usable = (entry: Entry<Keys>, keys: Keys, nowMs: number) => entry.keys === keys && nowMs < entry.reuseUntilMs;

  function insert(payload: string, entry: Entry<Keys>): void {
    newer.set(payload, entry);
    if (newer.size >= generationSize) {
      older = newer;
      newer = new Map();
    }
  }

  return {
    get(claims, issuerId, payload, keys, nowMs) {
      const held = byObject.get(claims);
      if (held && usable(held, keys, nowMs)) return held.jwt;
      const text = textKey(issuerId, payload);
      const recent = newer.get(text);
      const entry = recent ?? older.get(text);
      if (!entry) return undefined;
      if (!recent) {
        older.delete(text);
        if (usable(entry, keys, nowMs)) insert(text, entry);
      }
      if (!usable(entry, keys, nowMs)) return undefined;
      byObject.set(claims, entry);
      return entry.jwt;
    },
    set(claims, issuerId, payload, keys, { jwt, reuseUntilMs }) {
      const entry = { jwt, keys, reuseUntilMs };
      const text = textKey(issuerId, payload);
      older.delete(text);
      insert(text, entry);
      byObject.set(claims, entry);
    },
    get size() {
      return newer.size + older.size;
    },
  };
}
