import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  COLO_FETCH_LEASE_MS,
  COLO_LEASE_POLL_MS,
  COLO_READ_INTERVAL_MS,
  DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS,
} from '../src/constants.ts';
import { makeKey, TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { clearTiers } from './helpers/tiers.ts';
import { bearer, ClockedGateway, varsFor } from './helpers/worker.ts';

/**
 * Two isolates of one data centre: two gateways (each its own memory tier and cooldown) over the
 * one Cache API. KV is left out, so the data centre's copy is the only thing they share.
 */
function isolates(issuer: TestIssuer) {
  const vars = dataCentreVars(issuer);
  return [new ClockedGateway(vars), new ClockedGateway(vars)] as const;
}

/** One isolate's variables: KV left out, as for `isolates`. */
function dataCentreVars(issuer: TestIssuer) {
  return { ...varsFor(issuer, new TestOrigin()), JWKS_CACHE: undefined };
}

let matches = 0;
/** Cache API writes still in flight (most go through `waitUntil`), so a test can wait until the data centre holds them. */
const writes = new Set<Promise<void>>();
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
      put: (...args: Parameters<Cache['put']>) => {
        const write = real.put(...args);
        const settled = () => writes.delete(write);
        writes.add(write);
        write.then(settled, settled);
        return write;
      },
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

/** The fetch lease's entry, as `colo-lease.ts` names it: the test pins the scheme. */
function leaseUrl(jwksUri: string): string {
  return `https://jwks-cache.edge-verifier.invalid/v1/lease/${encodeURIComponent(jwksUri)}`;
}

/** Real time: the gateways' clocks stay where they are. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function codeOf(response: Response): Promise<string> {
  return ((await response.json()) as { code: string }).code;
}

/**
 * Starts `first`, holds its issuer fetch in flight, and starts `second` meanwhile: `second` starts
 * once `first` is fetching and its lease is in the data centre's Cache API, and the issuer answers
 * only after a few of `second`'s lease polls: without the lease, `second` would be fetching too by
 * then.
 */
async function whileFetching(
  issuer: TestIssuer,
  first: () => Promise<Response>,
  second: () => Promise<Response>,
): Promise<[Response, Response]> {
  const real = globalThis.fetch;
  let fetching: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    fetching = resolve;
  });
  let answer: () => void = () => {};
  const answered = new Promise<void>((resolve) => {
    answer = resolve;
  });
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url === issuer.jwksUri) {
      fetching();
      await answered;
    }
    return real(input, init);
  });
  const firstResponse = first();
  await started;
  await Promise.all(writes);
  const secondResponse = second();
  await sleep(4 * COLO_LEASE_POLL_MS);
  answer();
  return Promise.all([firstResponse, secondResponse]);
}

describe('fetch lease', () => {
  it('an isolate that meets a rotated kid while a sibling fetches it takes the sibling’s set: one issuer fetch', async () => {
    const issuer = await TestIssuer.create();
    await clearTiers(issuer.jwksUri);
    const [a, b] = isolates(issuer);
    expect((await a.call(bearer(await issuer.mint()))).status).toBe(200);
    expect((await b.call(bearer(await issuer.mint()))).status).toBe(200);
    expect(await fetches(issuer)).toBe(1);
    const rotated = await makeKey('RS256');
    issuer.keys = [...issuer.keys, rotated];
    await issuer.publish();
    // Past both cooldowns (and A's first lease), so that either may fetch the rotation.
    a.advance(DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS + 1);
    b.advance(DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS + 1);
    const [forA, forB] = [
      await issuer.mint({ key: rotated, at: a.nowSeconds }),
      await issuer.mint({ key: rotated, at: b.nowSeconds }),
    ];
    const [fromA, fromB] = await whileFetching(
      issuer,
      () => a.call(bearer(forA)),
      () => b.call(bearer(forB)),
    );
    expect([fromA.status, fromB.status]).toEqual([200, 200]);
    expect(await fetches(issuer)).toBe(2);
  });

  /** Two cold isolates of one data centre, the second asking while the first fetches. */
  async function twoColdIsolates(issuer: TestIssuer) {
    await clearTiers(issuer.jwksUri);
    const [a, b] = isolates(issuer);
    const token = await issuer.mint();
    const answers = await whileFetching(
      issuer,
      () => a.call(bearer(token)),
      () => b.call(bearer(token)),
    );
    return { a, b, answers };
  }

  it('two cold isolates of one data centre load the set with one issuer fetch', async () => {
    const issuer = await TestIssuer.create();
    const {
      answers: [fromA, fromB],
    } = await twoColdIsolates(issuer);
    expect([fromA.status, fromB.status]).toEqual([200, 200]);
    expect(await fetches(issuer)).toBe(1);
  });

  it('two cold isolates that find no lease at the same moment both take it, and only the one whose note is read back fetches', async () => {
    const issuer = await TestIssuer.create();
    await clearTiers(issuer.jwksUri);
    const [a, b] = isolates(issuer);
    const token = await issuer.mint();
    const statuses = await Promise.all([a.call(bearer(token)), b.call(bearer(token))]);
    expect(statuses.map((response) => response.status)).toEqual([200, 200]);
    expect(await fetches(issuer)).toBe(1);
  });

  it('a sibling’s failed fetch is this isolate’s too until the cooldown ends: 503 without asking the issuer', async () => {
    const issuer = await TestIssuer.create();
    await issuer.setMode('error500');
    const {
      a,
      b,
      answers: [fromA, fromB],
    } = await twoColdIsolates(issuer);
    expect([fromA.status, fromB.status]).toEqual([503, 503]);
    expect([await codeOf(fromA), await codeOf(fromB)]).toEqual(['jwks_unavailable', 'jwks_unavailable']);
    expect(await fetches(issuer)).toBe(1);
    // The issuer recovers, but inside the cooldown (on B's own clock) B still goes by A's failure.
    await issuer.setMode('ok');
    a.advance(DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS - 1);
    b.advance(DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS - 1);
    expect((await b.call(bearer(await issuer.mint({ at: b.nowSeconds })))).status).toBe(503);
    expect(await fetches(issuer)).toBe(1);
    a.advance(2);
    b.advance(2);
    expect((await b.call(bearer(await issuer.mint({ at: b.nowSeconds })))).status).toBe(200);
    expect(await fetches(issuer)).toBe(2);
  });

  it('a lease whose holder never writes a set holds a cold isolate back for COLO_FETCH_LEASE_MS, then it fetches itself', async () => {
    const issuer = await TestIssuer.create();
    await clearTiers(issuer.jwksUri);
    // The lease lapses on the waiter's own clock: this isolate's is the wall clock, so it can.
    const isolate = new ClockedGateway(dataCentreVars(issuer));
    Object.defineProperty(isolate, 'nowMs', { get: () => Date.now() });
    const takenAt = Date.now();
    const entryMaxAgeSeconds = 5;
    await caches.default.put(
      leaseUrl(issuer.jwksUri),
      new Response(JSON.stringify({ until: takenAt + COLO_FETCH_LEASE_MS, failed: false }), {
        headers: { 'content-type': 'application/json', 'cache-control': `max-age=${entryMaxAgeSeconds}` },
      }),
    );
    expect((await isolate.call(bearer(await issuer.mint()))).status).toBe(200);
    const waited = Date.now() - takenAt;
    expect(waited).toBeGreaterThanOrEqual(COLO_FETCH_LEASE_MS);
    // The lease's own bound ended the wait, not the Cache API dropping its entry.
    expect(waited).toBeLessThan(entryMaxAgeSeconds * 1000);
    expect(await fetches(issuer)).toBe(1);
  });
});
