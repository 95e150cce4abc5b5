import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../src/config.ts';
import { DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS, TIER_READ_TIMEOUT_MS } from '../src/constants.ts';
import type { Env } from '../src/env.ts';
import { createApp, GATEWAY_KV_BINDING, type GatewayApp } from '../src/worker/app.ts';
import { WorkerIo } from '../src/worker/runtime-io.ts';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { recordFor, seedKv } from './helpers/tiers.ts';
import { bearer, varsFor } from './helpers/worker.ts';

type Fault = 'throw' | 'hang';

/**
 * A real binding behind a switch: each watched method counts its calls and, while a fault is
 * set for it, rejects or never answers instead of reaching the binding. Everything else goes
 * straight to the real binding.
 */
class FaultyBinding<T extends object, M extends keyof T & string> {
  readonly calls: Record<M, number>;
  readonly faults: Partial<Record<M, Fault>> = {};
  readonly binding: T;

  constructor(real: T, watched: readonly M[]) {
    this.calls = Object.fromEntries(watched.map((method) => [method, 0])) as Record<M, number>;
    this.binding = new Proxy(real, {
      get: (target, property) => {
        const value = Reflect.get(target, property) as unknown;
        if (typeof value !== 'function') return value;
        const method = property as M;
        if (!watched.includes(method)) return value.bind(target);
        return (...args: unknown[]) => {
          this.calls[method]++;
          const fault = this.faults[method];
          if (fault === 'throw') return Promise.reject(new Error(`${method}: injected failure`));
          if (fault === 'hang') return new Promise(() => {});
          return value.apply(target, args);
        };
      },
    });
  }
}

const realKv = () => (env as unknown as Env).JWKS_CACHE as KVNamespace;

/**
 * The gateway in front of a test issuer with the real KV and Cache API behind faulty wrappers:
 * KV passed as `JWKS_CACHE`, the Cache API put in place of `caches.default` for this test.
 */
class TierGateway {
  nowMs = Date.now();
  readonly origin = new TestOrigin();
  readonly kv = new FaultyBinding(realKv(), ['get', 'put']);
  readonly cache = new FaultyBinding(caches.default, ['match', 'put']);
  readonly logs: { readonly event: string; readonly fields: Record<string, unknown> }[] = [];
  readonly vars: Env;
  private readonly gateway: GatewayApp;

  constructor(readonly issuer: TestIssuer) {
    this.vars = varsFor(issuer, this.origin);
    this.gateway = createApp(parseConfig(this.vars), {
      now: () => this.nowMs,
      log: (event, fields = {}) => this.logs.push({ event, fields }),
    });
    vi.stubGlobal('caches', { default: this.cache.binding });
  }

  get nowSeconds(): number {
    return Math.floor(this.nowMs / 1000);
  }

  advance(seconds: number): void {
    this.nowMs += seconds * 1000;
  }

  async call(token: string): Promise<Response> {
    const ctx = createExecutionContext();
    const response = await this.gateway.app.fetch(bearer(token), { ...this.vars, JWKS_CACHE: this.kv.binding }, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  }

  /** The cron's refresh, with the same faulty bindings. */
  async scheduled(): Promise<void> {
    const ctx = createExecutionContext();
    const io = new WorkerIo({ ...this.vars, JWKS_CACHE: this.kv.binding }, GATEWAY_KV_BINDING, { executionCtx: ctx });
    await this.gateway.verifier.refreshKeys(io);
    await waitOnExecutionContext(ctx);
  }

  /** `tier/op` of each `jwks_tier_error` line so far. */
  tierErrors(): string[] {
    return this.logs
      .filter(({ event }) => event === 'jwks_tier_error')
      .map(({ fields }) => `${fields.tier as string}/${fields.op as string}`);
  }

  async fetches(): Promise<number> {
    return (await this.issuer.stats()).jwksFetches;
  }
}

/** `promise`, or a failure naming the bound once `ms` have passed (rather than a test timeout). */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

async function codeOf(response: Response): Promise<string> {
  return ((await response.json()) as { code: string }).code;
}

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

interface TierFaultCase {
  readonly fault: [tier: 'kv' | 'cache', method: 'get' | 'put' | 'match', Fault];
  /** KV holds the issuer's set before the isolate starts. */
  readonly seeded: boolean;
  /** The scheduled refresh runs once after the requests (requests never write KV; it does). */
  readonly scheduled?: boolean;
  readonly fetches: number;
  readonly kv: { get: number; put: number };
  readonly cache: { match: number; put: number };
  readonly logged: string;
}

describe('a failing shared tier', () => {
  it.each<[string, TierFaultCase]>([
    [
      'KV get throws: answered from the issuer',
      {
        fault: ['kv', 'get', 'throw'],
        seeded: false,
        fetches: 1,
        kv: { get: 1, put: 0 },
        cache: { match: 3, put: 2 },
        logged: 'kv/get',
      },
    ],
    [
      'KV put throws: answered from the issuer; the scheduled refresh that writes KV logs it',
      {
        fault: ['kv', 'put', 'throw'],
        seeded: false,
        scheduled: true,
        fetches: 2,
        kv: { get: 2, put: 1 },
        cache: { match: 5, put: 4 },
        logged: 'kv/put',
      },
    ],
    [
      'Cache API match throws: answered from KV',
      {
        fault: ['cache', 'match', 'throw'],
        seeded: true,
        fetches: 0,
        kv: { get: 1, put: 0 },
        cache: { match: 1, put: 1 },
        logged: 'cache_api/get',
      },
    ],
    [
      'Cache API match throws, KV empty: answered from the issuer',
      {
        fault: ['cache', 'match', 'throw'],
        seeded: false,
        fetches: 1,
        kv: { get: 1, put: 0 },
        cache: { match: 3, put: 2 },
        logged: 'cache_api/get',
      },
    ],
    [
      'Cache API put throws: answered from KV',
      {
        fault: ['cache', 'put', 'throw'],
        seeded: true,
        fetches: 0,
        kv: { get: 1, put: 0 },
        cache: { match: 1, put: 1 },
        logged: 'cache_api/put',
      },
    ],
    [
      'Cache API put throws, KV empty: answered from the issuer, KV still written by the scheduled refresh',
      {
        fault: ['cache', 'put', 'throw'],
        seeded: false,
        scheduled: true,
        fetches: 2,
        kv: { get: 2, put: 1 },
        cache: { match: 5, put: 4 },
        logged: 'cache_api/put',
      },
    ],
  ])('%s; 20 requests on a cold-then-warm isolate log it once', async (_name, expected) => {
    const issuer = await TestIssuer.create();
    if (expected.seeded) await seedKv(await recordFor(issuer));
    const gateway = new TierGateway(issuer);
    const [tier, method, fault] = expected.fault;
    if (tier === 'kv') gateway.kv.faults[method as 'get' | 'put'] = fault;
    else gateway.cache.faults[method as 'match' | 'put'] = fault;

    for (let i = 0; i < 20; i++) {
      const response = await gateway.call(await issuer.mint({ at: gateway.nowSeconds }));
      expect(response.status).toBe(200);
      await response.body?.cancel();
    }
    if (expected.scheduled) {
      // A cron a few seconds later, once the requests' fetch lease has lapsed.
      gateway.advance(2);
      await gateway.scheduled();
    }
    expect(await gateway.origin.hits()).toBe(20);
    expect(await gateway.fetches()).toBe(expected.fetches);
    expect(gateway.kv.calls).toEqual(expected.kv);
    expect(gateway.cache.calls).toEqual(expected.cache);
    expect(gateway.tierErrors()).toEqual([expected.logged]);
  });

  it('a KV get that never answers is a miss after TIER_READ_TIMEOUT_MS: the issuer answers, once for a burst', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new TierGateway(issuer);
    gateway.kv.faults.get = 'hang';
    const started = Date.now();
    const statuses = await within(
      TIER_READ_TIMEOUT_MS + 3_000,
      Promise.all(
        Array.from(
          { length: 10 },
          async () => (await gateway.call(await issuer.mint({ at: gateway.nowSeconds }))).status,
        ),
      ),
    );
    expect(statuses).toEqual(Array(10).fill(200));
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIER_READ_TIMEOUT_MS - 50);
    expect(await gateway.origin.hits()).toBe(10);
    expect(await gateway.fetches()).toBe(1);
    // The burst shared one cold load: one read per tier, then memory; the fetch lease is two more
    // Cache API reads (is one held, did ours win) and a write. A request never writes KV.
    expect(gateway.kv.calls).toEqual({ get: 1, put: 0 });
    expect(gateway.cache.calls).toEqual({ match: 3, put: 2 });
    expect(gateway.tierErrors()).toEqual(['kv/get']);

    const warm = Date.now();
    expect((await gateway.call(await issuer.mint({ at: gateway.nowSeconds }))).status).toBe(200);
    expect(Date.now() - warm).toBeLessThan(TIER_READ_TIMEOUT_MS);
    expect(gateway.kv.calls.get).toBe(1);
  });

  it('a Cache API match that never answers is a miss after TIER_READ_TIMEOUT_MS: KV answers', async () => {
    const issuer = await TestIssuer.create();
    await seedKv(await recordFor(issuer));
    const gateway = new TierGateway(issuer);
    gateway.cache.faults.match = 'hang';
    const response = await within(TIER_READ_TIMEOUT_MS + 3_000, gateway.call(await issuer.mint()));
    expect(response.status).toBe(200);
    expect(await gateway.origin.hits()).toBe(1);
    expect(await gateway.fetches()).toBe(0);
    expect(gateway.kv.calls).toEqual({ get: 1, put: 0 });
    expect(gateway.cache.calls).toEqual({ match: 1, put: 1 });
    expect(gateway.tierErrors()).toEqual(['cache_api/get']);
  });
});

describe('an isolate that starts while the issuer is down', () => {
  it('serves the set KV holds, with no issuer fetch', async () => {
    const issuer = await TestIssuer.create();
    await issuer.setMode('error500');
    await seedKv(await recordFor(issuer));
    const gateway = new TierGateway(issuer);
    for (let i = 0; i < 3; i++) {
      expect((await gateway.call(await issuer.mint({ at: gateway.nowSeconds }))).status).toBe(200);
    }
    expect(await gateway.origin.hits()).toBe(3);
    expect(await gateway.fetches()).toBe(0);
    expect(gateway.kv.calls).toEqual({ get: 1, put: 0 });
    expect(gateway.cache.calls).toEqual({ match: 1, put: 1 });
  });

  it('serves a stale set from KV while its one background refresh fails', async () => {
    const issuer = await TestIssuer.create();
    await issuer.setMode('error500');
    const gateway = new TierGateway(issuer);
    await seedKv(await recordFor(issuer, gateway.nowMs - 601_000));
    for (let i = 0; i < 3; i++) {
      expect((await gateway.call(await issuer.mint({ at: gateway.nowSeconds }))).status).toBe(200);
    }
    expect(await gateway.origin.hits()).toBe(3);
    // The first request's refresh started a cooldown; the others serve the stale set without one.
    expect(await gateway.fetches()).toBe(1);
    expect(gateway.logs.filter(({ event }) => event === 'jwks_refresh_failed')).toHaveLength(1);
  });

  it('answers 503 with Retry-After and forwards nothing when KV fails too', async () => {
    const issuer = await TestIssuer.create();
    await issuer.setMode('error500');
    await seedKv(await recordFor(issuer));
    const gateway = new TierGateway(issuer);
    gateway.kv.faults.get = 'throw';
    const response = await gateway.call(await issuer.mint());
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(await codeOf(response)).toBe('jwks_unavailable');
    expect(await gateway.origin.hits()).toBe(0);
    expect(await gateway.fetches()).toBe(1);
    expect(gateway.kv.calls).toEqual({ get: 1, put: 0 });
    // The record's read, the fetch lease's read; the lease taken and read back, then marked failed.
    expect(gateway.cache.calls).toEqual({ match: 3, put: 2 });
  });

  it('logs a failing KV read once per cooldown, though every request retries it; the issuer once per cooldown', async () => {
    const issuer = await TestIssuer.create();
    await issuer.setMode('error500');
    const gateway = new TierGateway(issuer);
    gateway.kv.faults.get = 'throw';
    for (let i = 0; i < 20; i++) expect((await gateway.call(await issuer.mint())).status).toBe(503);
    // Nothing is held to fall back on, so each request tries the tiers again; the first failed
    // fetch is noted in the data centre's fetch lease, so the others do not try the issuer again.
    expect(gateway.kv.calls.get).toBe(20);
    expect(await gateway.fetches()).toBe(1);
    expect(gateway.tierErrors()).toEqual(['kv/get']);

    gateway.advance(DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS);
    expect((await gateway.call(await issuer.mint())).status).toBe(503);
    expect(gateway.tierErrors()).toEqual(['kv/get', 'kv/get']);
    expect(gateway.logs.filter(({ event }) => event === 'jwks_tier_error').at(-1)?.fields.repeated).toBe(19);
    expect(await gateway.origin.hits()).toBe(0);
  });
});

describe('a burst of cold requests in one isolate', () => {
  it('120 concurrent requests with valid, expired and unknown-kid tokens cost 1 JWKS fetch and each get their own answer within 10 s', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new TierGateway(issuer);
    const at = gateway.nowSeconds;
    const kinds = ['unknown_kid', 'valid', 'token_expired'] as const;
    const requests = await Promise.all(
      Array.from({ length: 120 }, async (_, i) => {
        const kind = kinds[i % 3] as (typeof kinds)[number];
        const token = await issuer.mint({
          at,
          ...(kind === 'unknown_kid' ? { header: { kid: crypto.randomUUID() } } : {}),
          ...(kind === 'token_expired' ? { claims: { iat: at - 7_200, exp: at - 3_600 } } : {}),
        });
        return { kind, token };
      }),
    );
    const started = Date.now();
    const answers = await within(
      10_000,
      Promise.all(
        requests.map(async ({ kind, token }) => {
          const response = await gateway.call(token);
          const got = response.status === 200 ? 'valid' : await codeOf(response);
          return { kind, status: response.status, got };
        }),
      ),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const { kind, status, got } of answers) {
      expect({ status, got }).toEqual({ status: kind === 'valid' ? 200 : 401, got: kind });
    }
    // The cold load is shared; the unknown kids fall inside the cooldown that load's fetch started,
    // and ask the data centre's copy once (at most one read per COLO_READ_INTERVAL_MS); the fetch
    // lease is two reads and one write more.
    expect(await gateway.fetches()).toBe(1);
    expect(gateway.kv.calls).toEqual({ get: 1, put: 0 });
    expect(gateway.cache.calls).toEqual({ match: 4, put: 2 });
    expect(await gateway.origin.hits()).toBe(40);
  });

  it.each<['error500' | 'hang', number]>([
    ['error500', 1],
    ['hang', 1],
  ])(
    '120 concurrent requests while the issuer answers %s cost %i JWKS fetch and all get 503 within 10 s',
    async (mode, bound) => {
      const issuer = await TestIssuer.create();
      await issuer.setMode(mode);
      const gateway = new TierGateway(issuer);
      const tokens = await Promise.all(Array.from({ length: 120 }, () => issuer.mint({ at: gateway.nowSeconds })));
      const statuses = await within(
        10_000,
        Promise.all(tokens.map(async (token) => (await gateway.call(token)).status)),
      );
      expect(new Set(statuses)).toEqual(new Set([503]));
      expect(await gateway.fetches()).toBe(bound);
      expect(gateway.kv.calls).toEqual({ get: 1, put: 0 });
      expect(await gateway.origin.hits()).toBe(0);
    },
    20_000,
  );
});
