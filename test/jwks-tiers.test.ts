import { beforeEach, describe, expect, it, vi } from 'vitest';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { clearTiers, readCacheApi, readKv, recordFor, seedCacheApi, seedKv } from './helpers/tiers.ts';
import { bearer, ClockedGateway, callWorker, varsFor } from './helpers/worker.ts';

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

describe('JWKS cache tiers', () => {
  it('a cold isolate fetches once and fills memory and the Cache API; KV is left to its one writer', async () => {
    const issuer = await TestIssuer.create();
    const vars = varsFor(issuer, new TestOrigin());
    expect(await readKv(issuer.jwksUri)).toBeUndefined();
    expect(await readCacheApi(issuer.jwksUri)).toBeUndefined();

    expect((await callWorker(bearer(await issuer.mint()), vars)).status).toBe(200);
    expect((await issuer.stats()).jwksFetches).toBe(1);

    // On a first deploy every data centre fetches within a second, and KV takes one write per
    // second per key: a request never writes it, even empty (the scheduled refresh does).
    expect((await readCacheApi(issuer.jwksUri))?.keys.map((k) => k.kid)).toEqual([issuer.key.kid]);
    expect(await readKv(issuer.jwksUri)).toBeUndefined();

    // With the data centre's copy emptied, only isolate memory can still hold the key.
    await clearTiers(issuer.jwksUri);
    expect((await callWorker(bearer(await issuer.mint()), vars)).status).toBe(200);
    expect((await issuer.stats()).jwksFetches).toBe(1);
    expect(await readKv(issuer.jwksUri)).toBeUndefined();
  });

  it('a KV-only hit serves without any issuer fetch and fills the Cache API', async () => {
    const issuer = await TestIssuer.create();
    await seedKv(await recordFor(issuer));
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));

    expect((await gateway.call(bearer(await issuer.mint()))).status).toBe(200);
    expect((await issuer.stats()).jwksFetches).toBe(0);
    expect((await readCacheApi(issuer.jwksUri))?.keys.map((k) => k.kid)).toEqual([issuer.key.kid]);
  });

  it('a Cache API hit serves without any issuer fetch or KV write', async () => {
    const issuer = await TestIssuer.create();
    await seedCacheApi(await recordFor(issuer));
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));

    expect((await gateway.call(bearer(await issuer.mint()))).status).toBe(200);
    expect((await issuer.stats()).jwksFetches).toBe(0);
    expect(await readKv(issuer.jwksUri)).toBeUndefined();
  });

  it('a new isolate reuses what another isolate stored instead of fetching', async () => {
    const issuer = await TestIssuer.create();
    const vars = varsFor(issuer, new TestOrigin());
    expect((await new ClockedGateway(vars).call(bearer(await issuer.mint()))).status).toBe(200);
    expect((await new ClockedGateway(vars).call(bearer(await issuer.mint()))).status).toBe(200);
    expect((await issuer.stats()).jwksFetches).toBe(1);
  });

  it('a refetch, even of a changed set, reaches the data centre’s copy and leaves KV to the scheduled refresh', async () => {
    const issuer = await TestIssuer.create();
    await seedKv(await recordFor(issuer));
    const first = await readKv(issuer.jwksUri);
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    expect((await gateway.call(bearer(await issuer.mint()))).status).toBe(200);

    // Past the TTL: the refetch leaves KV as it was (fetchedAt would change if it wrote it).
    gateway.advance(601);
    expect((await gateway.call(bearer(await issuer.mint({ at: gateway.nowSeconds })))).status).toBe(200);
    expect((await issuer.stats()).jwksFetches).toBe(1);
    expect((await readKv(issuer.jwksUri))?.fetchedAt).toBe(first?.fetchedAt);
    expect((await readCacheApi(issuer.jwksUri))?.fetchedAt).toBe(gateway.nowMs);

    // A rotated set reaches the data centre's copy, not KV: after a rotation every data centre
    // fetches within seconds, and KV takes about one write per second per key.
    const { makeKey } = await import('./helpers/issuer.ts');
    issuer.keys.push(await makeKey('ES256'));
    await issuer.publish();
    gateway.advance(601);
    expect((await gateway.call(bearer(await issuer.mint({ at: gateway.nowSeconds })))).status).toBe(200);
    expect((await readCacheApi(issuer.jwksUri))?.keys).toHaveLength(2);
    expect((await readKv(issuer.jwksUri))?.keys).toHaveLength(1);
  });

  it('ignores a corrupt KV entry and fetches from the issuer', async () => {
    const issuer = await TestIssuer.create();
    const { env } = await import('cloudflare:workers');
    const { kvKey } = await import('../src/keys/remote/store-kv.ts');
    await (env as { JWKS_CACHE: KVNamespace }).JWKS_CACHE.put(kvKey(issuer.jwksUri), '{"keys":"nope"}');
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    expect((await gateway.call(bearer(await issuer.mint()))).status).toBe(200);
    expect((await issuer.stats()).jwksFetches).toBe(1);
  });
});

describe('scheduled refresh', () => {
  beforeEach(() => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
  });

  it('fetches each issuer’s JWKS into KV and the Cache API before any request needs it', async () => {
    const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import(
      'cloudflare:test'
    );
    const worker = (await import('../src/index.ts')).default;
    const { envWith } = await import('./helpers/worker.ts');
    const issuer = await TestIssuer.create();
    const vars = varsFor(issuer, new TestOrigin());
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ cron: '*/5 * * * *' }), envWith(vars), ctx);
    await waitOnExecutionContext(ctx);
    expect((await issuer.stats()).jwksFetches).toBe(1);
    expect((await readKv(issuer.jwksUri))?.keys.map((k) => k.kid)).toEqual([issuer.key.kid]);
    expect((await readCacheApi(issuer.jwksUri))?.keys.map((k) => k.kid)).toEqual([issuer.key.kid]);
    // A new isolate then serves from the shared tiers without fetching.
    expect((await new ClockedGateway(vars).call(bearer(await issuer.mint()))).status).toBe(200);
    expect((await issuer.stats()).jwksFetches).toBe(1);
  });

  it('is the writer of KV: a changed set is written, an unchanged one is not, even by a fresh isolate', async () => {
    const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import(
      'cloudflare:test'
    );
    const { createGateway } = await import('../src/worker/gateway.ts');
    const { envWith } = await import('./helpers/worker.ts');
    const { makeKey } = await import('./helpers/issuer.ts');
    const issuer = await TestIssuer.create();
    const vars = varsFor(issuer, new TestOrigin());
    /** Each run in an isolate of its own, as the cron's invocations are. */
    const scheduledRun = async () => {
      const ctx = createExecutionContext();
      createGateway().scheduled(createScheduledController({ cron: '*/5 * * * *' }), envWith(vars), ctx);
      await waitOnExecutionContext(ctx);
    };
    await scheduledRun();
    const first = await readKv(issuer.jwksUri);
    await scheduledRun();
    expect((await issuer.stats()).jwksFetches).toBe(2);
    expect((await readKv(issuer.jwksUri))?.fetchedAt).toBe(first?.fetchedAt);
    issuer.keys.push(await makeKey('ES256'));
    await issuer.publish();
    await scheduledRun();
    expect((await readKv(issuer.jwksUri))?.keys).toHaveLength(2);
  });
});
