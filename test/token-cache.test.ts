import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createVerifiedTokenCache } from '../src/auth/token-cache.ts';
import { makeKey, TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { bearer, ClockedGateway, varsFor } from './helpers/worker.ts';

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('verified-token cache', () => {
  it('lets a repeated token skip the signature check', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    const token = await issuer.mint({ at: gateway.nowSeconds });
    const verify = vi.spyOn(crypto.subtle, 'verify');
    for (let i = 0; i < 20; i++) expect((await gateway.call(bearer(token))).status).toBe(200);
    // Verified on its first and second use (admitted on the second), served from the cache after.
    expect(verify).toHaveBeenCalledTimes(2);
    // A different token is verified.
    expect(
      (await gateway.call(bearer(await issuer.mint({ at: gateway.nowSeconds, claims: { sub: 'b' } })))).status,
    ).toBe(200);
    expect(verify).toHaveBeenCalledTimes(3);
  });

  it('never serves a cached token past its exp', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin(), { CLOCK_SKEW_SECONDS: '0' }));
    const token = await issuer.mint({ at: gateway.nowSeconds, claims: { exp: gateway.nowSeconds + 10 } });
    gateway.nowMs = gateway.nowSeconds * 1000;
    expect((await gateway.call(bearer(token))).status).toBe(200);
    gateway.advance(9);
    expect((await gateway.call(bearer(token))).status).toBe(200);
    gateway.advance(1);
    expect((await gateway.call(bearer(token))).status).toBe(401);
  });

  it('still checks scopes per route on a cached token', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin(), { REQUIRED_SCOPES: 'admin' }));
    const token = await issuer.mint({ at: gateway.nowSeconds, claims: { scope: 'read' } });
    expect((await gateway.call(bearer(token))).status).toBe(403);
    expect((await gateway.call(bearer(token))).status).toBe(403);
  });

  it('drops every cached token when the key set changes', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    const token = await issuer.mint({ at: gateway.nowSeconds, claims: { exp: gateway.nowSeconds + 3_600 } });
    expect((await gateway.call(bearer(token))).status).toBe(200);
    // The issuer revokes the key; the next TTL refresh sees it.
    issuer.keys = [await makeKey('RS256')];
    await issuer.publish();
    gateway.advance(601);
    expect((await gateway.call(bearer(token))).status).toBe(200); // stale set served while refreshing
    expect((await gateway.call(bearer(token))).status).toBe(401);
  });

  it('admits a token on its second verification, so unique tokens leave nothing behind', () => {
    const cache = createVerifiedTokenCache(64);
    const now = 1_000_000_000_000;
    for (let i = 0; i < 1_000; i++) cache.set(`unique-${i}`, { exp: 2_000_000_000 }, 'v1');
    expect(cache.size).toBe(0);
    cache.set('repeated', { sub: 'r', exp: 2_000_000_000 }, 'v1');
    expect(cache.get('repeated', now, 'v1')).toBeUndefined();
    cache.set('repeated', { sub: 'r', exp: 2_000_000_000 }, 'v1');
    expect(cache.get('repeated', now, 'v1')?.sub).toBe('r');
    expect(cache.size).toBe(1);
  });

  it('keeps a recently read token and drops the least recently used one', () => {
    const cache = createVerifiedTokenCache(4);
    const payload = (sub: string) => ({ sub, exp: 2_000_000_000 });
    const now = 1_000_000_000_000;
    const admit = (token: string) => {
      cache.set(token, payload(token), 'v1');
      cache.set(token, payload(token), 'v1');
    };
    expect(cache.get('a', now, 'v1')).toBeUndefined();
    admit('a');
    admit('b');
    // A hit keeps `a` recent; `b` is now the least recently used.
    expect(cache.get('a', now, 'v1')?.sub).toBe('a');
    admit('c');
    admit('d');
    expect(cache.get('b', now, 'v1')).toBeUndefined();
    expect(cache.get('a', now, 'v1')?.sub).toBe('a');
    expect(cache.get('d', now, 'v1')?.sub).toBe('d');
    expect(cache.get('a', now, 'v2')).toBeUndefined();
    expect(cache.get('d', now, 'v2')).toBeUndefined();
  });

  it('never holds more entries than its bound', () => {
    const cache = createVerifiedTokenCache(64);
    const now = 1_000_000_000_000;
    let largest = 0;
    for (let i = 0; i < 1_000; i++) {
      cache.set(`token-${i}`, { exp: 2_000_000_000 }, 'v1');
      cache.set(`token-${i}`, { exp: 2_000_000_000 }, 'v1');
      // Reads of older tokens move them between generations; the bound must hold through that too.
      cache.get(`token-${i >> 1}`, now, 'v1');
      largest = Math.max(largest, cache.size);
    }
    expect(largest).toBeLessThanOrEqual(64);
    expect(largest).toBeGreaterThan(32);
    expect(cache.get('token-999', now, 'v1')).toBeDefined();
  });

  it('forgets an expired entry found in the older generation', () => {
    const cache = createVerifiedTokenCache(4);
    const now = 1_000_000_000_000;
    for (const token of ['old', 'old', 'x', 'x'])
      cache.set(token, { exp: token === 'old' ? now / 1000 + 1 : 2_000_000_000 }, 'v1');
    expect(cache.get('old', now + 1_000, 'v1')).toBeUndefined();
    expect(cache.get('old', now, 'v1')).toBeUndefined();
  });
});
