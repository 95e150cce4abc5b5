import { describe, expect, it } from 'vitest';
import { IDENTITY_ASSERTION_CACHE_MAX_ENTRIES } from '../src/constants.ts';
import { createAssertionCache } from '../src/identity/assertion-cache.ts';

const KEYS = { name: 'current keys' };
const NOW = 1_000_000;
const entry = (jwt: string, reuseUntilMs = NOW + 30_000) => ({ jwt, reuseUntilMs });

describe('the identity assertion cache', () => {
  it('finds an assertion by the verified payload object, and by its text from the same issuer', () => {
    const cache = createAssertionCache<typeof KEYS>(IDENTITY_ASSERTION_CACHE_MAX_ENTRIES);
    const claims = { sub: 'alice' };
    cache.set(claims, 'corp', 'eyJzdWIiOiJhbGljZSJ9', KEYS, entry('signed-for-alice'));
    expect(cache.get(claims, 'corp', 'eyJzdWIiOiJhbGljZSJ9', KEYS, NOW)).toBe('signed-for-alice');
    // The same payload verified again (a new object), as after the verified-token cache dropped it.
    expect(cache.get({ sub: 'alice' }, 'corp', 'eyJzdWIiOiJhbGljZSJ9', KEYS, NOW)).toBe('signed-for-alice');
  });

  it('never hands one issuer’s assertion to the same payload text from another issuer', () => {
    const cache = createAssertionCache<typeof KEYS>(IDENTITY_ASSERTION_CACHE_MAX_ENTRIES);
    cache.set({ sub: '42' }, 'as-a', 'eyJzdWIiOiI0MiJ9', KEYS, entry('signed-for-a'));
    expect(cache.get({ sub: '42' }, 'as-b', 'eyJzdWIiOiI0MiJ9', KEYS, NOW)).toBeUndefined();
  });

  it('misses once its reuse time has come, or with other keys (a rotated secret)', () => {
    const cache = createAssertionCache<typeof KEYS>(IDENTITY_ASSERTION_CACHE_MAX_ENTRIES);
    const claims = { sub: 'alice' };
    cache.set(claims, 'corp', 'payload', KEYS, entry('signed', NOW + 10));
    expect(cache.get(claims, 'corp', 'payload', KEYS, NOW + 9)).toBe('signed');
    expect(cache.get(claims, 'corp', 'payload', KEYS, NOW + 10)).toBeUndefined();
    expect(cache.get(claims, 'corp', 'payload', { name: 'rotated keys' }, NOW)).toBeUndefined();
  });

  it(`holds at most ${IDENTITY_ASSERTION_CACHE_MAX_ENTRIES} payloads: a spray of new tokens drops the oldest`, () => {
    const cache = createAssertionCache<typeof KEYS>(IDENTITY_ASSERTION_CACHE_MAX_ENTRIES);
    cache.set({}, 'corp', 'first', KEYS, entry('signed-first'));
    for (let i = 0; i < IDENTITY_ASSERTION_CACHE_MAX_ENTRIES * 3; i++) {
      cache.set({}, 'corp', `payload-${i}`, KEYS, entry(`signed-${i}`));
      expect(cache.size).toBeLessThanOrEqual(IDENTITY_ASSERTION_CACHE_MAX_ENTRIES);
    }
    expect(cache.get({}, 'corp', 'first', KEYS, NOW)).toBeUndefined();
  });
});
