import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VERIFIED_TOKEN_CACHE_MAX_ENTRIES } from '../src/constants.ts';
import { createVerifiedTokenCache } from '../src/token/token-cache.ts';
import { WorkerIo } from '../src/worker/runtime-io.ts';
import { makeKey, TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { bearer, ClockedGateway, envWith, varsFor } from './helpers/worker.ts';

/** A token-like string, distinct per `i` in its last characters (the part the doorkeeper hashes), the same on every run. */
function distinctToken(i: number): string {
  return `eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.${i.toString(36).padStart(43, 'S')}`;
}

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

  it('serves only the token it holds: one with another payload and the same signature never hits, and each verified one gets its own payload', () => {
    const cache = createVerifiedTokenCache(64);
    const now = 1_000_000_000_000;
    const signature = 'S'.repeat(43);
    const held = `eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.${signature}`;
    const tampered = `eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.${signature}`;
    cache.set(held, { sub: 'user', exp: 2_000_000_000 }, 'v1');
    cache.set(held, { sub: 'user', exp: 2_000_000_000 }, 'v1');
    expect(cache.get(held, now, 'v1')?.sub).toBe('user');
    // Same fingerprint (the signature's end), another token: a miss, in either generation.
    expect(cache.get(tampered, now, 'v1')).toBeUndefined();
    expect(cache.get(held, now, 'v1')?.sub).toBe('user');
    // Once the other token has verified too (twice: admitted), each is served its own payload only.
    cache.set(tampered, { sub: 'other', exp: 2_000_000_000 }, 'v1');
    cache.set(tampered, { sub: 'other', exp: 2_000_000_000 }, 'v1');
    expect(cache.get(tampered, now, 'v1')?.sub).toBe('other');
    expect(cache.get(held, now, 'v1')?.sub).not.toBe('other');
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

  it('holds at most VERIFIED_TOKEN_CACHE_MAX_ENTRIES of 100,000 distinct tokens, each admitted, and keeps the newest', () => {
    const cache = createVerifiedTokenCache(VERIFIED_TOKEN_CACHE_MAX_ENTRIES);
    const now = 1_000_000_000_000;
    let largest = 0;
    for (let i = 0; i < 100_000; i++) {
      const token = distinctToken(i);
      cache.set(token, { exp: 2_000_000_000 }, 'v1');
      cache.set(token, { exp: 2_000_000_000 }, 'v1');
      largest = Math.max(largest, cache.size);
    }
    expect(largest).toBeLessThanOrEqual(VERIFIED_TOKEN_CACHE_MAX_ENTRIES);
    // It did fill: a bound met by holding nothing would prove nothing.
    expect(largest).toBeGreaterThan(VERIFIED_TOKEN_CACHE_MAX_ENTRIES / 2);
    expect(cache.get(distinctToken(99_999), now, 'v1')).toBeDefined();
    expect(cache.get(distinctToken(0), now, 'v1')).toBeUndefined();
  });

  it('admits almost none of 100,000 one-off tokens', () => {
    const cache = createVerifiedTokenCache(VERIFIED_TOKEN_CACHE_MAX_ENTRIES);
    for (let i = 0; i < 100_000; i++) cache.set(distinctToken(i), { exp: 2_000_000_000 }, 'v1');
    // Only a doorkeeper fingerprint collision admits a one-off token.
    expect(cache.size).toBeLessThan(16);
  });

  it('bounds the gateway’s own cache: past VERIFIED_TOKEN_CACHE_MAX_ENTRIES distinct tokens the oldest is verified again', async () => {
    const issuer = await TestIssuer.create(['ES256']);
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    const { verifier } = gateway.gateway;
    const ctx = createExecutionContext();
    const io = new WorkerIo(envWith(gateway.vars), 'JWKS_CACHE', { executionCtx: ctx });
    const count = VERIFIED_TOKEN_CACHE_MAX_ENTRIES + 512;
    const tokens = await Promise.all(
      Array.from({ length: count }, (_, i) => issuer.mint({ at: gateway.nowSeconds, claims: { sub: `user-${i}` } })),
    );
    const authenticate = async (token: string) => (await verifier.authenticate(bearer(token), io)).auth?.subject;
    // Each is verified twice: admitted on the second.
    for (const token of tokens) {
      await authenticate(token);
      expect(await authenticate(token)).toBeDefined();
    }
    await waitOnExecutionContext(ctx);
    const verify = vi.spyOn(crypto.subtle, 'verify');
    expect(await authenticate(tokens[count - 1] as string)).toBe(`user-${count - 1}`);
    expect(verify).not.toHaveBeenCalled();
    expect(await authenticate(tokens[0] as string)).toBe('user-0');
    expect(verify).toHaveBeenCalledTimes(1);
    expect((await issuer.stats()).jwksFetches).toBe(1);
  });
});
