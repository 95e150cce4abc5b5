import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { UNKNOWN_KID_WAIT_MAX_MS } from '../../src/constants.ts';
import { type CoordinatorState, createCoordinator } from '../../src/coordinator/coordinator.ts';
import type { Env } from '../../src/env.ts';
import type { Clock } from '../../src/shared/clock.ts';
import { createApp, type GatewayApp } from '../../src/worker/app.ts';
import { manualClock } from '../helpers/clock.ts';
import { makeKey, TestIssuer } from '../helpers/issuer.ts';
import { TestOrigin } from '../helpers/origin.ts';
import { bearer, varsFor } from '../helpers/worker.ts';

/**
 * A valid new kid is never refused for a cooldown: two isolates of one data centre (one Cache
 * API) and one coordinator, all on one simulated clock, so "within 2 s" is the clock's time.
 */

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

/** The coordinator module on the world's clock, behind a namespace the isolates bind as JWKS_COORDINATOR. */
function coordinatorNamespace(clock: Clock, broken = false) {
  let stored: CoordinatorState | undefined;
  const coordinator = createCoordinator({
    clock,
    log: () => {},
    storage: {
      get: async () => stored,
      put: async (state) => {
        stored = state;
      },
    },
  });
  return {
    idFromName: (name: string) => name,
    get: () => ({
      keySet: (request: Parameters<typeof coordinator.keySet>[0]) =>
        broken ? Promise.reject(new Error('object failed')) : coordinator.keySet(request),
    }),
  } as unknown as DurableObjectNamespace;
}

interface World {
  readonly clock: ReturnType<typeof manualClock>;
  readonly isolates: [GatewayApp, GatewayApp];
  readonly vars: Env;
}

/** Two isolates of one data centre: each its own memory, one Cache API and KV between them. */
function world(issuer: TestIssuer, cooldownSeconds: number, broken = false): World {
  const clock = manualClock();
  const vars = varsFor(issuer, new TestOrigin(), {
    JWKS_REFRESH_COOLDOWN_SECONDS: String(cooldownSeconds),
    JWKS_COORDINATOR: coordinatorNamespace(clock, broken),
  });
  const isolate = () => createApp(parseConfig(vars), { now: clock.now, clock, log: () => {} });
  // Each test gets a key source of its own (its issuer), so the shared Cache API holds nothing of another's.
  return { clock, vars, isolates: [isolate(), isolate()] };
}

/**
 * Requests sent at one moment, each through its isolate, the world's clock moved 50 ms at a time
 * while any is pending (real I/O gets a moment between steps). Returns each one's status and the
 * simulated time it took.
 */
async function callAll(
  w: World,
  sends: readonly (readonly [GatewayApp, string])[],
): Promise<{ status: number; tookMs: number }[]> {
  const started = w.clock.now();
  let pending = sends.length;
  const answers = sends.map(async ([isolate, token]) => {
    const ctx = createExecutionContext();
    const kv = (env as unknown as Env).JWKS_CACHE;
    try {
      const response = await isolate.app.fetch(bearer(token), { ...w.vars, JWKS_CACHE: kv }, ctx);
      return { status: response.status, tookMs: w.clock.now() - started };
    } finally {
      pending--;
      await waitOnExecutionContext(ctx);
    }
  });
  for (let steps = 0; pending > 0 && steps < 400; steps++) {
    await new Promise((resolve) => setTimeout(resolve, 15));
    if (pending > 0) w.clock.advance(50);
  }
  return Promise.all(answers);
}

async function call(w: World, isolate: GatewayApp, token: string): Promise<{ status: number; tookMs: number }> {
  const [answer] = await callAll(w, [[isolate, token]]);
  return answer as { status: number; tookMs: number };
}

async function rotate(issuer: TestIssuer) {
  const rotated = await makeKey('RS256');
  issuer.keys = [rotated, ...issuer.keys];
  await issuer.publish();
  return rotated;
}

const fetches = async (issuer: TestIssuer) => (await issuer.stats()).jwksFetches;

describe('a new kid across isolates, with the coordinator', () => {
  it('5 s after a fetch, a second isolate accepts a new kid within 2 s, and the first then does without a fetch', async () => {
    const issuer = await TestIssuer.create();
    const w = world(issuer, 30);
    const [first, second] = w.isolates;
    expect((await call(w, first, await issuer.mint())).status).toBe(200);
    expect(await fetches(issuer)).toBe(1);
    w.clock.advance(5_000);
    const rotated = await rotate(issuer);
    const token = await issuer.mint({ key: rotated, at: Math.floor(w.clock.now() / 1000) });
    const accepted = await call(w, second, token);
    expect(accepted.status).toBe(200);
    expect(accepted.tookMs).toBeLessThanOrEqual(2_000);
    expect(await fetches(issuer)).toBe(2);
    w.clock.advance(1_100);
    expect((await call(w, first, token)).status).toBe(200);
    expect(await fetches(issuer)).toBe(2);
  });

  it('0.5 s after a fetch (cooldown 1 s), a new kid is accepted on its first request, answered once the interval ends', async () => {
    const issuer = await TestIssuer.create();
    const w = world(issuer, 1);
    const [isolate] = w.isolates;
    expect((await call(w, isolate, await issuer.mint())).status).toBe(200);
    w.clock.advance(500);
    const rotated = await rotate(issuer);
    const accepted = await call(w, isolate, await issuer.mint({ key: rotated, at: Math.floor(w.clock.now() / 1000) }));
    expect(accepted.status).toBe(200);
    expect(accepted.tookMs).toBeGreaterThanOrEqual(400);
    expect(accepted.tookMs).toBeLessThanOrEqual(UNKNOWN_KID_WAIT_MAX_MS);
    expect(await fetches(issuer)).toBe(2);
  });

  it('a made-up kid in the same situation is refused after at most the wait bound', async () => {
    const issuer = await TestIssuer.create();
    const w = world(issuer, 1);
    const [isolate] = w.isolates;
    expect((await call(w, isolate, await issuer.mint())).status).toBe(200);
    w.clock.advance(500);
    const refused = await call(
      w,
      isolate,
      await issuer.mint({ header: { kid: 'made-up' }, at: Math.floor(w.clock.now() / 1000) }),
    );
    expect(refused.status).toBe(401);
    expect(refused.tookMs).toBeLessThanOrEqual(UNKNOWN_KID_WAIT_MAX_MS);
  });

  it('100 made-up kids within a second cost one issuer fetch', async () => {
    const issuer = await TestIssuer.create();
    const w = world(issuer, 30);
    const [first, second] = w.isolates;
    expect((await call(w, first, await issuer.mint())).status).toBe(200);
    w.clock.advance(2_000);
    const at = Math.floor(w.clock.now() / 1000);
    const tokens = await Promise.all(
      Array.from({ length: 100 }, () => issuer.mint({ header: { kid: crypto.randomUUID() }, at })),
    );
    const statuses = await callAll(
      w,
      tokens.map((token, i) => [i % 2 ? first : second, token] as const),
    );
    expect(statuses.every(({ status }) => status === 401)).toBe(true);
    expect(await fetches(issuer)).toBe(2);
  });

  it('with the coordinator failing, the isolates fetch a new kid themselves, bounded by the data centre lease', async () => {
    const issuer = await TestIssuer.create();
    const w = world(issuer, 30, true);
    const [first, second] = w.isolates;
    expect((await call(w, first, await issuer.mint())).status).toBe(200);
    w.clock.advance(5_000);
    const rotated = await rotate(issuer);
    const token = await issuer.mint({ key: rotated, at: Math.floor(w.clock.now() / 1000) });
    const answers = await callAll(w, [
      [first, token],
      [second, token],
    ]);
    expect(answers.map(({ status }) => status)).toEqual([200, 200]);
    expect(await fetches(issuer)).toBeLessThanOrEqual(3);
  });
});
