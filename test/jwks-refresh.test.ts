import { beforeEach, describe, expect, it, vi } from 'vitest';
import { JWKS_MAX_STALE_SECONDS, SHARED_REFRESH_WAIT_MS, UNKNOWN_KID_WAIT_MAX_MS } from '../src/constants.ts';
import { makeKey, TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { bearer, ClockedGateway, callWorker, varsFor } from './helpers/worker.ts';

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

async function fetches(issuer: TestIssuer): Promise<number> {
  return (await issuer.stats()).jwksFetches;
}

async function status(gateway: ClockedGateway, token: string): Promise<number> {
  return (await gateway.call(bearer(token))).status;
}

describe('JWKS refresh', () => {
  it('refetches after the TTL, serving the cached set meanwhile', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    gateway.advance(599);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    expect(await fetches(issuer)).toBe(1);
    gateway.advance(2);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    expect(await fetches(issuer)).toBe(2);
    gateway.advance(10);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    expect(await fetches(issuer)).toBe(2);
  });

  it('honours a shorter Cache-Control max-age, never below 60 s', async () => {
    const issuer = await TestIssuer.create();
    await issuer.publish(undefined, 'public, max-age=5');
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    gateway.advance(30);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    expect(await fetches(issuer)).toBe(1);
    gateway.advance(31);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    expect(await fetches(issuer)).toBe(2);
  });

  it('honours a configured TTL under 60 s', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin(), { JWKS_CACHE_TTL_SECONDS: '30' }));
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    gateway.advance(29);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    expect(await fetches(issuer)).toBe(1);
    gateway.advance(2);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    expect(await fetches(issuer)).toBe(2);
  });

  it('lets an issuer max-age shorten a 30 s TTL no further: min(60 s, TTL) is the floor', async () => {
    const issuer = await TestIssuer.create();
    await issuer.publish(undefined, 'no-store');
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin(), { JWKS_CACHE_TTL_SECONDS: '30' }));
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    gateway.advance(20);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    expect(await fetches(issuer)).toBe(1);
    gateway.advance(11);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    expect(await fetches(issuer)).toBe(2);
  });

  it('refetches once on an unknown kid, then honours the cooldown', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    const unknown = () => issuer.mint({ at: gateway.nowSeconds, header: { kid: crypto.randomUUID() } });
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    // Inside the cooldown that the first fetch started: no refetch.
    expect(await status(gateway, await unknown())).toBe(401);
    expect(await fetches(issuer)).toBe(1);
    gateway.advance(31);
    expect(await status(gateway, await unknown())).toBe(401);
    expect(await fetches(issuer)).toBe(2);
    expect(await status(gateway, await unknown())).toBe(401);
    expect(await status(gateway, await unknown())).toBe(401);
    expect(await fetches(issuer)).toBe(2);
    gateway.advance(31);
    expect(await status(gateway, await unknown())).toBe(401);
    expect(await fetches(issuer)).toBe(3);
  });

  it('accepts a rotated-in key after the cooldown and refuses a rotated-out key after the TTL', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    const oldKey = issuer.key;
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);

    const newKey = await makeKey('RS256');
    issuer.keys = [newKey];
    await issuer.publish();
    gateway.advance(31);
    expect(await status(gateway, await issuer.mint({ key: newKey, at: gateway.nowSeconds }))).toBe(200);
    expect(await fetches(issuer)).toBe(2);
    // The refetch already dropped the removed key.
    expect(await status(gateway, await issuer.mint({ key: oldKey, at: gateway.nowSeconds }))).toBe(401);
  });

  it('drops a removed key at the next TTL refresh', async () => {
    const issuer = await TestIssuer.create(['RS256', 'ES256']);
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    const removed = issuer.keys[1];
    expect(await status(gateway, await issuer.mint({ key: removed, at: gateway.nowSeconds }))).toBe(200);
    issuer.keys = [issuer.key];
    await issuer.publish();
    gateway.advance(601);
    // Served from the stale set while the background refresh runs.
    expect(await status(gateway, await issuer.mint({ key: removed, at: gateway.nowSeconds }))).toBe(200);
    expect(await status(gateway, await issuer.mint({ key: removed, at: gateway.nowSeconds }))).toBe(401);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
  });

  it('keeps serving the cached set while the issuer fails, up to the stale limit, then answers 503', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    await issuer.setMode('error500');
    gateway.advance(601);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    expect(await fetches(issuer)).toBe(2);
    gateway.advance(3_600);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    gateway.advance(JWKS_MAX_STALE_SECONDS);
    const response = await gateway.call(bearer(await issuer.mint({ at: gateway.nowSeconds })));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
  });

  it.each(['error500', 'html', 'huge', 'redirect-offhost'] as const)(
    'answers 503 when nothing is cached and the issuer answers %s',
    async (mode) => {
      const issuer = await TestIssuer.create();
      await issuer.setMode(mode);
      const origin = new TestOrigin();
      const response = await callWorker(bearer(await issuer.mint()), varsFor(issuer, origin));
      expect(response.status).toBe(503);
      expect(await origin.hits()).toBe(0);
    },
  );

  it('follows a redirect on the issuer host', async () => {
    const issuer = await TestIssuer.create();
    await issuer.setMode('redirect-samehost');
    const response = await callWorker(bearer(await issuer.mint()), varsFor(issuer, new TestOrigin()));
    expect(response.status).toBe(200);
    expect(await fetches(issuer)).toBe(2);
  });

  it('refuses a JWKS whose keys are all unusable and keeps the cached keys', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    await issuer.publish({ keys: [] });
    gateway.advance(601);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    expect(await status(gateway, await issuer.mint({ at: gateway.nowSeconds }))).toBe(200);
    expect(await fetches(issuer)).toBe(2);
  });

  it('turns 1,000 requests with valid tokens into one issuer fetch', async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    const vars = varsFor(issuer, origin);
    const token = await issuer.mint();
    for (let i = 0; i < 1_000; i++) {
      const response = await callWorker(bearer(token), vars);
      expect(response.status).toBe(200);
      await response.body?.cancel();
    }
    expect(await fetches(issuer)).toBe(1);
    expect(await origin.hits()).toBe(1_000);
  });

  it('turns 1,000 requests with random unknown kids into at most one fetch per cooldown', async () => {
    const issuer = await TestIssuer.create();
    const vars = varsFor(issuer, new TestOrigin());
    const valid = await issuer.mint();
    for (let i = 0; i < 1_000; i++) {
      const token = await issuer.mint({ header: { kid: crypto.randomUUID() } });
      expect((await callWorker(bearer(token), vars)).status).toBe(401);
    }
    // One fetch: the cold load; every unknown kid fell inside the cooldown it started.
    expect(await fetches(issuer)).toBe(1);
    expect((await callWorker(bearer(valid), vars)).status).toBe(200);
  });

  it('shares one fetch among concurrent cold requests, valid or with unknown kids', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    const tokens = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        issuer.mint({ at: gateway.nowSeconds, ...(i % 2 ? { header: { kid: crypto.randomUUID() } } : {}) }),
      ),
    );
    const statuses = await Promise.all(tokens.map((token) => status(gateway, token)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 401)).toHaveLength(20);
    expect(await fetches(issuer)).toBe(1);
  });

  it('a request waiting on a refresh that never settles falls back after a bound', async () => {
    const issuer = await TestIssuer.create();
    const vars = varsFor(issuer, new TestOrigin());
    // A fetch that ignores its abort signal stands in for a promise left hanging by another request.
    let hang = false;
    const fetchThatCanHang: typeof fetch = (input, init) =>
      hang && String(input) === issuer.jwksUri ? new Promise<Response>(() => {}) : fetch(input, init);
    const { createApp } = await import('../src/worker/app.ts');
    const { parseConfig } = await import('../src/config.ts');
    const { createExecutionContext } = await import('cloudflare:test');
    const { envWith } = await import('./helpers/worker.ts');
    let now = Date.now();
    const { app } = createApp(parseConfig(vars), { now: () => now, log: () => {}, fetch: fetchThatCanHang });
    const call = (token: string) => app.fetch(bearer(token), envWith(vars), createExecutionContext());

    expect((await call(await issuer.mint())).status).toBe(200);
    hang = true;
    now += 31_000;
    // The first unknown kid starts a refetch that hangs; the second waits on it.
    void call(await issuer.mint({ at: Math.floor(now / 1000), header: { kid: 'new-1' } }));
    const started = Date.now();
    const waiter = await call(await issuer.mint({ at: Math.floor(now / 1000), header: { kid: 'new-2' } }));
    expect(waiter.status).toBe(401);
    // A missing kid waits on someone else's refresh for its own bound, not the shared one.
    expect(Date.now() - started).toBeGreaterThanOrEqual(UNKNOWN_KID_WAIT_MAX_MS - 100);
    expect(Date.now() - started).toBeLessThan(SHARED_REFRESH_WAIT_MS);
    // The known key keeps working while the hung refetch is abandoned.
    expect((await call(await issuer.mint({ at: Math.floor(now / 1000) }))).status).toBe(200);
    // Only short waits ever joined the hung refetch; once it is older than the shared bound it
    // no longer counts as running, so a key published meanwhile is fetched and accepted.
    hang = false;
    const rotated = await makeKey('RS256');
    issuer.keys = [rotated, ...issuer.keys];
    await issuer.publish();
    now += Math.max(SHARED_REFRESH_WAIT_MS, 31_000);
    expect((await call(await issuer.mint({ key: rotated, at: Math.floor(now / 1000) }))).status).toBe(200);
  }, 20_000);
});
