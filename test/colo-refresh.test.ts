import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COLO_READ_INTERVAL_MS } from '../src/constants.ts';
import { makeKey, TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { clearTiers } from './helpers/tiers.ts';
import { bearer, ClockedGateway, varsFor } from './helpers/worker.ts';

/**
 * Two isolates of one data centre: two gateways (each its own memory tier and cooldown) over the
 * one Cache API. KV is left out, so the data centre's copy is the only thing they share.
 */
function isolates(issuer: TestIssuer) {
  const vars = { ...varsFor(issuer, new TestOrigin()), JWKS_CACHE: undefined };
  return [new ClockedGateway(vars), new ClockedGateway(vars)] as const;
}

let matches = 0;
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
  const real = caches.default;
  matches = 0;
  vi.stubGlobal('caches', {
    default: {
      match: (...args: Parameters<Cache['match']>) => {
        matches++;
        return real.match(...args);
      },
      put: (...args: Parameters<Cache['put']>) => real.put(...args),
      delete: (...args: Parameters<Cache['delete']>) => real.delete(...args),
    },
  });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

async function fetches(issuer: TestIssuer): Promise<number> {
  return (await issuer.stats()).jwksFetches;
}

describe('colo-first refresh', () => {
  it('an isolate inside its cooldown accepts a kid another isolate of its data centre already fetched', async () => {
    const issuer = await TestIssuer.create();
    await clearTiers(issuer.jwksUri);
    const [a, b] = isolates(issuer);
    // B fetches first: its cooldown runs from here.
    expect((await b.call(bearer(await issuer.mint()))).status).toBe(200);
    // The issuer rotates; A, cold, reads the data centre's copy, misses the new kid, and fetches
    // (a second later: each gateway's clock only moves when told to).
    const rotated = await makeKey('RS256');
    issuer.keys = [...issuer.keys, rotated];
    await issuer.publish();
    a.advance(1);
    await a.call(bearer(await issuer.mint({ at: a.nowSeconds })));
    expect((await a.call(bearer(await issuer.mint({ key: rotated, at: a.nowSeconds })))).status).toBe(200);
    expect(await fetches(issuer)).toBe(2);
    // B, 5 s into its 30 s cooldown, finds the new kid in the data centre's copy: no issuer fetch.
    b.advance(5);
    expect((await b.call(bearer(await issuer.mint({ key: rotated, at: b.nowSeconds })))).status).toBe(200);
    expect(await fetches(issuer)).toBe(2);
  });

  it('reads the data centre’s copy at most once per second for a flood of made-up kids', async () => {
    const issuer = await TestIssuer.create();
    await clearTiers(issuer.jwksUri);
    const [gateway] = isolates(issuer);
    expect((await gateway.call(bearer(await issuer.mint()))).status).toBe(200);
    const before = matches;
    const madeUp = () => issuer.mint({ at: gateway.nowSeconds, header: { kid: crypto.randomUUID() } });
    for (let i = 0; i < 30; i++) expect((await gateway.call(bearer(await madeUp()))).status).toBe(401);
    expect(matches - before).toBe(1);
    gateway.advance(COLO_READ_INTERVAL_MS / 1000);
    for (let i = 0; i < 30; i++) await gateway.call(bearer(await madeUp()));
    expect(matches - before).toBe(2);
    // Inside the cooldown the issuer is not asked at all.
    expect(await fetches(issuer)).toBe(1);
  });

  it('past its TTL, an isolate takes a fresh newer set from its data centre instead of the issuer', async () => {
    const issuer = await TestIssuer.create();
    await clearTiers(issuer.jwksUri);
    const [a, b] = isolates(issuer);
    expect((await a.call(bearer(await issuer.mint()))).status).toBe(200);
    // B starts from A's copy, then refreshes it from the issuer once its own clock says it is stale.
    expect((await b.call(bearer(await issuer.mint()))).status).toBe(200);
    expect(await fetches(issuer)).toBe(1);
    b.advance(700);
    await b.call(bearer(await issuer.mint({ at: b.nowSeconds })));
    expect(await fetches(issuer)).toBe(2);
    // A goes stale later: the data centre now holds B's newer, fresh set.
    a.advance(650);
    expect((await a.call(bearer(await issuer.mint({ at: a.nowSeconds })))).status).toBe(200);
    expect((await a.call(bearer(await issuer.mint({ at: a.nowSeconds })))).status).toBe(200);
    expect(await fetches(issuer)).toBe(2);
  });
});
