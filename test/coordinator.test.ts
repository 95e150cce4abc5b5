import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COORDINATOR_MIN_REFETCH_MS, COORDINATOR_TIMEOUT_MS } from '../src/constants.ts';
import { type CoordinatorState, createCoordinator } from '../src/coordinator/coordinator.ts';
import type { KeySetRequest } from '../src/coordinator/protocol.ts';
import type { Env } from '../src/env.ts';
import type { Logger } from '../src/observe/log.ts';
import { manualClock } from './helpers/clock.ts';
import { makeKey, TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { readKv } from './helpers/tiers.ts';
import { bearer, ClockedGateway, varsFor } from './helpers/worker.ts';

const namespace = () => (env as unknown as Env).JWKS_COORDINATOR as DurableObjectNamespace;

/** The coordinator keeps real time; a 1 s cooldown lets a test pass it with a short real wait. */
const COOLDOWN_SECONDS = 1;
const pastCooldown = () => new Promise((resolve) => setTimeout(resolve, COOLDOWN_SECONDS * 1000 + 100));

/** What the gateways under test logged. */
let lines: { event: string; fields: Record<string, unknown> }[] = [];
const log: Logger = (event, fields = {}) => void lines.push({ event, fields });
beforeEach(() => {
  lines = [];
  // The object logs on the console.
  vi.spyOn(console, 'log').mockImplementation(() => {});
  // Each gateway stands for an isolate in a data centre of its own: no Cache API, no KV to share.
  vi.stubGlobal('caches', undefined);
});
afterEach(() => {
  vi.unstubAllGlobals();
});

/** Isolates in `count` different data centres, all asking `coordinator` (default: the real Durable Object). */
function dataCentres(issuer: TestIssuer, count: number, coordinator: unknown = namespace()): ClockedGateway[] {
  const vars = varsFor(issuer, new TestOrigin(), {
    JWKS_CACHE: undefined,
    JWKS_COORDINATOR: coordinator as DurableObjectNamespace,
    JWKS_REFRESH_COOLDOWN_SECONDS: String(COOLDOWN_SECONDS),
  });
  return Array.from({ length: count }, () => new ClockedGateway(vars, log));
}

async function fetches(issuer: TestIssuer): Promise<number> {
  return (await issuer.stats()).jwksFetches;
}

async function status(gateway: ClockedGateway, token: string | Promise<string>): Promise<number> {
  return (await gateway.call(bearer(await token))).status;
}

/** A coordinator binding whose objects never answer, or fail at once. */
function brokenNamespace(keySet: () => Promise<unknown>) {
  return { idFromName: (name: string) => name, get: () => ({ keySet }) };
}

describe('JWKS coordinator (Durable Object)', () => {
  it('isolates in three data centres share one issuer fetch through the object', async () => {
    const issuer = await TestIssuer.create();
    const isolates = dataCentres(issuer, 3);
    for (const isolate of isolates) expect(await status(isolate, issuer.mint())).toBe(200);
    expect(await fetches(issuer)).toBe(1);
  });

  it('a rotated kid reaches every data centre with one issuer fetch', async () => {
    const issuer = await TestIssuer.create();
    const isolates = dataCentres(issuer, 3);
    for (const isolate of isolates) expect(await status(isolate, issuer.mint())).toBe(200);
    const rotated = await makeKey('RS256');
    issuer.keys = [rotated, ...issuer.keys];
    await issuer.publish();
    await pastCooldown();
    for (const isolate of isolates) {
      isolate.advance(COOLDOWN_SECONDS + 1);
      expect(await status(isolate, issuer.mint({ key: rotated, at: isolate.nowSeconds }))).toBe(200);
    }
    expect(await fetches(issuer)).toBe(2);
  });

  it('a flood of unknown kids from many data centres costs one issuer fetch per cooldown', async () => {
    const issuer = await TestIssuer.create();
    const isolates = dataCentres(issuer, 6);
    for (const isolate of isolates) expect(await status(isolate, issuer.mint())).toBe(200);
    await pastCooldown();
    const madeUp = (isolate: ClockedGateway) =>
      issuer.mint({ at: isolate.nowSeconds, header: { kid: crypto.randomUUID() } });
    const statuses = await Promise.all(
      isolates.map((isolate) => {
        isolate.advance(COOLDOWN_SECONDS + 1);
        return status(isolate, madeUp(isolate));
      }),
    );
    expect(statuses).toEqual(isolates.map(() => 401));
    expect(await fetches(issuer)).toBe(2);
  });

  it('writes KV when the key set changes, not when a refetch finds the same set', async () => {
    const issuer = await TestIssuer.create();
    const [isolate] = dataCentres(issuer, 1) as [ClockedGateway];
    expect(await status(isolate, issuer.mint())).toBe(200);
    const first = await readKv(issuer.jwksUri);
    expect(first?.keys.map((key) => key.kid)).toEqual([issuer.key.kid]);
    // An unknown kid after the cooldown: the object refetches, finds the same set, leaves KV alone.
    await pastCooldown();
    isolate.advance(COOLDOWN_SECONDS + 1);
    expect(await status(isolate, issuer.mint({ at: isolate.nowSeconds, header: { kid: 'nope' } }))).toBe(401);
    expect(await fetches(issuer)).toBe(2);
    expect((await readKv(issuer.jwksUri))?.fetchedAt).toBe(first?.fetchedAt);
    // A rotation changes the set: KV gets it.
    const rotated = await makeKey('RS256');
    issuer.keys = [rotated, ...issuer.keys];
    await issuer.publish();
    await pastCooldown();
    isolate.advance(COOLDOWN_SECONDS + 1);
    expect(await status(isolate, issuer.mint({ key: rotated, at: isolate.nowSeconds }))).toBe(200);
    expect((await readKv(issuer.jwksUri))?.keys.map((key) => key.kid)).toEqual([rotated.kid, issuer.keys[1]?.kid]);
  });

  it('with the issuer down and nothing stored, the isolate answers 503 without fetching itself', async () => {
    const issuer = await TestIssuer.create();
    await issuer.setMode('error500');
    const [isolate] = dataCentres(issuer, 1) as [ClockedGateway];
    expect(await status(isolate, issuer.mint())).toBe(503);
    // The object's one attempt, not a second one by the isolate.
    expect(await fetches(issuer)).toBe(1);
  });

  it('sets an alarm for the end of the TTL, and the alarm refetches', async () => {
    const issuer = await TestIssuer.create();
    const [isolate] = dataCentres(issuer, 1) as [ClockedGateway];
    expect(await status(isolate, issuer.mint())).toBe(200);
    const stub = namespace().get(namespace().idFromName(issuer.jwksUri));
    const { alarm, state } = await runInDurableObject(stub, async (_, object) => ({
      alarm: await object.storage.getAlarm(),
      state: await object.storage.get<CoordinatorState>('state'),
    }));
    expect(state?.record.keys.map((key) => key.kid)).toEqual([issuer.key.kid]);
    expect(alarm).toBe((state?.record.fetchedAt ?? 0) + 600_000);
    await pastCooldown();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await fetches(issuer)).toBe(2);
  });

  it('an object that fails: the isolate fetches from the issuer itself, and logs it once per cooldown', async () => {
    const issuer = await TestIssuer.create();
    await issuer.setMode('error500');
    const [isolate] = dataCentres(
      issuer,
      1,
      brokenNamespace(() => Promise.reject(new Error('unreachable'))),
    ) as [ClockedGateway];
    // Nothing in memory and the issuer down: every request goes upstream, each one falls back.
    for (let i = 0; i < 4; i++) expect(await status(isolate, issuer.mint())).toBe(503);
    expect(await fetches(issuer)).toBe(4);
    expect(lines.filter((line) => line.event === 'jwks_coordinator_unavailable')).toHaveLength(1);
    await issuer.setMode('ok');
    expect(await status(isolate, issuer.mint())).toBe(200);
    expect(await fetches(issuer)).toBe(5);
  });

  it('an object that does not answer: the isolate fetches from the issuer itself after the bound', async () => {
    const issuer = await TestIssuer.create();
    const [isolate] = dataCentres(
      issuer,
      1,
      brokenNamespace(() => new Promise(() => {})),
    ) as [ClockedGateway];
    const started = Date.now();
    expect(await status(isolate, issuer.mint())).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(COORDINATOR_TIMEOUT_MS);
    expect(await fetches(issuer)).toBe(1);
  });

  it('an answer without a key set is not trusted: the isolate fetches itself', async () => {
    const issuer = await TestIssuer.create();
    const forged = brokenNamespace(async () => ({ record: { keys: 'all of them' } }));
    const [isolate] = dataCentres(issuer, 1, forged) as [ClockedGateway];
    expect(await status(isolate, issuer.mint())).toBe(200);
    expect(await fetches(issuer)).toBe(1);
  });
});

/** Lets pending promise reactions run (a coordinator reads its storage before deciding). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('coordinator decisions', () => {
  async function setUp() {
    const issuer = await TestIssuer.create();
    const clock = manualClock(1_000_000);
    let stored: CoordinatorState | undefined;
    const kvWrites: string[] = [];
    const wakeUps: number[] = [];
    const coordinator = createCoordinator({
      clock,
      log: () => {},
      wakeAt: (at) => void wakeUps.push(at),
      storage: {
        get: async () => stored,
        put: async (state) => {
          stored = state;
        },
      },
      kv: { put: async (_, record) => void kvWrites.push(record.hash) },
    });
    const request = (held = 0, kid?: string): KeySetRequest => ({
      issuer: issuer.url,
      jwksUri: issuer.jwksUri,
      ttlSeconds: 600,
      cooldownSeconds: 30,
      heldFetchedAt: held,
      kid,
    });
    return { issuer, clock, coordinator, request, kvWrites, wakeUps };
  }

  it('concurrent callers share one issuer fetch', async () => {
    const { issuer, coordinator, request } = await setUp();
    const answers = await Promise.all(Array.from({ length: 10 }, () => coordinator.keySet(request())));
    expect(answers.every((answer) => 'record' in answer)).toBe(true);
    expect(await fetches(issuer)).toBe(1);
  });

  // Changed on purpose: a missing kid was refetched only after the whole cooldown, which refused a
  // valid new key network-wide for up to 30 s; now once per COORDINATOR_MIN_REFETCH_MS.
  it('answers an older set from storage; a kid it lacks is fetched at most once per COORDINATOR_MIN_REFETCH_MS, a request inside the interval waiting for that fetch', async () => {
    const { issuer, clock, coordinator, request, kvWrites } = await setUp();
    const first = await coordinator.keySet(request());
    const fetchedAt = 'record' in first ? first.record.fetchedAt : Number.NaN;
    expect('record' in (await coordinator.keySet(request(fetchedAt - 1)))).toBe(true);
    expect(await fetches(issuer)).toBe(1);
    // 5 s after a fetch: a new kid is fetched at once, well inside the 30 s cooldown.
    clock.advance(5_000);
    await coordinator.keySet(request(fetchedAt, 'new-kid'));
    expect(await fetches(issuer)).toBe(2);
    // Another kid 0.5 s later waits for the interval to end, then for the one fetch it allows.
    clock.advance(500);
    const waiting = coordinator.keySet(request(fetchedAt, 'other-kid'));
    await settle();
    expect(await fetches(issuer)).toBe(2);
    clock.advance(COORDINATOR_MIN_REFETCH_MS - 500);
    await waiting;
    expect(await fetches(issuer)).toBe(3);
    // Asked again inside the interval after a fetch that lacked it: "not in the set", at once.
    clock.advance(100);
    await coordinator.keySet(request(fetchedAt, 'other-kid'));
    expect(await fetches(issuer)).toBe(3);
    // The same set each time: one KV write.
    expect(kvWrites).toHaveLength(1);
  });

  it('never remembers a kid over 256 characters as absent (its memory is bounded), so asked again it waits for the interval like a new kid', async () => {
    const { issuer, clock, coordinator, request } = await setUp();
    const first = await coordinator.keySet(request());
    const fetchedAt = 'record' in first ? first.record.fetchedAt : Number.NaN;
    const remembered = 'k'.repeat(256);
    clock.advance(5_000);
    await coordinator.keySet(request(fetchedAt, remembered));
    clock.advance(100);
    await coordinator.keySet(request(fetchedAt, remembered));
    expect(await fetches(issuer)).toBe(2);

    const tooLong = 'k'.repeat(257);
    clock.advance(COORDINATOR_MIN_REFETCH_MS);
    await coordinator.keySet(request(fetchedAt, tooLong));
    expect(await fetches(issuer)).toBe(3);
    clock.advance(100);
    let answered = false;
    const again = coordinator.keySet(request(fetchedAt, tooLong)).then(() => {
      answered = true;
    });
    await settle();
    expect(answered).toBe(false);
    clock.advance(COORDINATOR_MIN_REFETCH_MS);
    await again;
    expect(await fetches(issuer)).toBe(4);
  });

  it('a flood of 100 made-up kids within a second costs one issuer fetch', async () => {
    const { issuer, clock, coordinator, request } = await setUp();
    const first = await coordinator.keySet(request());
    const fetchedAt = 'record' in first ? first.record.fetchedAt : Number.NaN;
    clock.advance(200);
    const flood = Array.from({ length: 100 }, () => coordinator.keySet(request(fetchedAt, crypto.randomUUID())));
    await settle();
    clock.advance(COORDINATOR_MIN_REFETCH_MS);
    const answers = await Promise.all(flood);
    expect(answers.every((answer) => 'record' in answer)).toBe(true);
    expect(await fetches(issuer)).toBe(2);
  });

  it('a failed fetch with nothing stored is retried once per cooldown, not once per caller', async () => {
    const { issuer, clock, coordinator, request } = await setUp();
    await issuer.setMode('error500');
    for (let i = 0; i < 5; i++) expect('error' in (await coordinator.keySet(request()))).toBe(true);
    expect(await fetches(issuer)).toBe(1);
    clock.advance(30_000);
    await issuer.setMode('ok');
    expect('record' in (await coordinator.keySet(request()))).toBe(true);
    expect(await fetches(issuer)).toBe(2);
  });

  it('serves its stored set while the issuer fails, and asks to be woken again after the cooldown', async () => {
    const { issuer, clock, coordinator, request, wakeUps } = await setUp();
    const first = await coordinator.keySet(request());
    const fetchedAt = 'record' in first ? first.record.fetchedAt : Number.NaN;
    expect(wakeUps).toEqual([fetchedAt + 600_000]);
    await issuer.setMode('error500');
    clock.advance(700_000);
    const answer = await coordinator.keySet(request());
    expect(answer).toEqual(first);
    expect(await fetches(issuer)).toBe(2);
    expect(wakeUps).toEqual([fetchedAt + 600_000, clock.now() + 30_000]);
  });

  it('its wake-up refetches while callers ask, and lapses once nobody has for a day', async () => {
    const { issuer, clock, coordinator, request } = await setUp();
    await coordinator.keySet(request());
    clock.advance(600_000);
    await coordinator.wake();
    expect(await fetches(issuer)).toBe(2);
    clock.advance(86_400_000);
    await coordinator.wake();
    expect(await fetches(issuer)).toBe(2);
  });
});
