import { env } from 'cloudflare:workers';
import type { JWTPayload } from 'jose';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { rateLimitKey, rateLimitSubject } from '../src/authz/rate-limit.ts';
import type { RateLimitConfig } from '../src/config.ts';
import type { Env } from '../src/env.ts';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { policyIssuer, policyVars } from './helpers/policy.ts';
import { bearer, callWorker, WORKER_URL } from './helpers/worker.ts';

/** The test binding (vitest.config.ts): 3 requests per key per 60 s. */
const BINDING = 'TEST_RATE_LIMIT';
const LIMIT = 3;
const PERIOD_SECONDS = 60;
const limiter = (env as unknown as Record<string, unknown>)[BINDING];

let issuer: TestIssuer;
let logged: string[];
beforeAll(async () => {
  issuer = await TestIssuer.create();
});
beforeEach(async () => {
  logged = [];
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
    logged.push(String(line));
  });
  await awayFromWindowEdge();
});

/**
 * The binding counts in windows aligned to the wall clock: a test that straddles the turn of a
 * window would see its count reset. Each one starts with at least 10 s of its window left.
 */
async function awayFromWindowEdge(): Promise<void> {
  const left = PERIOD_SECONDS * 1000 - (Date.now() % (PERIOD_SECONDS * 1000));
  if (left < 10_000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

const unique = () => crypto.randomUUID().slice(0, 8);
const clientIp = () => `2001:db8::${unique().slice(0, 4)}:${unique().slice(0, 4)}`;

/** A policy of `routes` in front of `origin`, with `top` merged into its top level. */
function policy(routes: Record<string, unknown>[], origin = new TestOrigin(), top: Record<string, unknown> = {}): Env {
  return {
    ...policyVars({ issuers: { corp: policyIssuer(issuer) }, routes, origin: origin.url, ...top }),
    [BINDING]: limiter,
  } as Env;
}

const limited = (key: string) => ({ binding: BINDING, period_seconds: PERIOD_SECONDS, key });

async function status(request: Request, vars: Env): Promise<number> {
  return (await callWorker(request, vars)).status;
}

async function tokenFor(claims: Record<string, unknown>): Promise<string> {
  return issuer.mint({ claims });
}

describe('rate_limit with a Rate Limiting binding', () => {
  it('the N+1th request of one sub is refused 429 with Retry-After; another sub is unaffected', async () => {
    const origin = new TestOrigin();
    const vars = policy([{ path: '/*', access: 'required', rate_limit: limited('sub') }], origin);
    const alice = await tokenFor({ sub: `alice-${unique()}` });
    const ip = clientIp();
    for (let i = 0; i < LIMIT; i++) {
      expect(await status(bearer(alice, '/orders', { headers: { 'cf-connecting-ip': ip } }), vars)).toBe(200);
    }
    const refused = await callWorker(bearer(alice, '/orders', { headers: { 'cf-connecting-ip': ip } }), vars);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe(String(PERIOD_SECONDS));
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.headers.get('www-authenticate')).toBeNull();
    expect(await refused.json()).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(await origin.hits()).toBe(LIMIT);

    // Same address, another caller: counted apart.
    const bob = await tokenFor({ sub: `bob-${unique()}` });
    expect(await status(bearer(bob, '/orders', { headers: { 'cf-connecting-ip': ip } }), vars)).toBe(200);
  });

  it('client_ip on a public route: one address is limited, another is not', async () => {
    const vars = policy([{ path: '/*', access: 'public', rate_limit: limited('client_ip') }]);
    const [first, second] = [clientIp(), clientIp()];
    const from = (ip: string) => new Request(`${WORKER_URL}/page`, { headers: { 'cf-connecting-ip': ip } });
    for (let i = 0; i < LIMIT; i++) expect(await status(from(first), vars)).toBe(200);
    expect(await status(from(first), vars)).toBe(429);
    expect(await status(from(second), vars)).toBe(200);
  });

  it('a token without the keyed claim is counted by client_ip', async () => {
    const vars = policy([{ path: '/*', access: 'required', rate_limit: limited('org.id') }]);
    const ip = clientIp();
    // Three callers without an org, from one address, share its count.
    for (let i = 0; i < LIMIT; i++) {
      const token = await tokenFor({ sub: `no-org-${unique()}` });
      expect(await status(bearer(token, '/x', { headers: { 'cf-connecting-ip': ip } }), vars)).toBe(200);
    }
    const fourth = await tokenFor({ sub: `no-org-${unique()}` });
    expect(await status(bearer(fourth, '/x', { headers: { 'cf-connecting-ip': ip } }), vars)).toBe(429);
    // The same caller from another address has a count of its own.
    expect(await status(bearer(fourth, '/x', { headers: { 'cf-connecting-ip': clientIp() } }), vars)).toBe(200);

    // With the claim, callers of one org share the org's count whatever their address.
    const org = { id: `org-${unique()}` };
    for (let i = 0; i < LIMIT; i++) {
      const token = await tokenFor({ sub: `member-${unique()}`, org });
      expect(await status(bearer(token, '/x', { headers: { 'cf-connecting-ip': clientIp() } }), vars)).toBe(200);
    }
    expect(await status(bearer(await tokenFor({ sub: 'late', org }), '/x'), vars)).toBe(429);
  });

  it('a request routed elsewhere by override headers still counts against its own route', async () => {
    const origin = new TestOrigin();
    const overriding = policy(
      [
        { path: '/login', methods: ['POST'], access: 'public', rate_limit: limited('client_ip') },
        { path: '/*', access: 'public' },
      ],
      origin,
      { forward_override_headers: true },
    );
    const ip = clientIp();
    // Each names another method: routed by /* (no limit), but an origin that ignores the header runs POST /login.
    const login = () =>
      new Request(`${WORKER_URL}/login`, {
        method: 'POST',
        headers: { 'cf-connecting-ip': ip, 'x-http-method-override': 'PUT' },
      });
    for (let i = 0; i < LIMIT; i++) expect(await status(login(), overriding)).toBe(200);
    expect(await status(login(), overriding)).toBe(429);
    expect(await origin.hits()).toBe(LIMIT);
  });

  it('client_id counts a client’s tokens together, by azp when there is no client_id', async () => {
    const vars = policy([{ path: '/*', access: 'required', rate_limit: limited('client_id') }]);
    const client = `app-${unique()}`;
    const tokens = [
      await tokenFor({ sub: `u-${unique()}`, client_id: client }),
      await tokenFor({ sub: `u-${unique()}`, azp: client }),
      await tokenFor({ sub: `u-${unique()}`, client_id: client }),
    ];
    for (const token of tokens) expect(await status(bearer(token), vars)).toBe(200);
    expect(await status(bearer(await tokenFor({ sub: 'other', azp: client })), vars)).toBe(429);
  });

  it('is checked after authorization: refused requests spend nothing', async () => {
    const vars = policy([{ path: '/*', access: 'required', scopes: { all: ['admin'] }, rate_limit: limited('sub') }]);
    const sub = `carol-${unique()}`;
    const withoutScope = await tokenFor({ sub, scope: 'read' });
    for (let i = 0; i < LIMIT + 2; i++) expect(await status(bearer(withoutScope), vars)).toBe(403);
    const withScope = await tokenFor({ sub, scope: 'admin' });
    for (let i = 0; i < LIMIT; i++) expect(await status(bearer(withScope), vars)).toBe(200);
    expect(await status(bearer(withScope), vars)).toBe(429);
  });

  it('two routes sharing a binding count apart (the key holds the route)', async () => {
    const vars = policy([
      { path: '/a/*', access: 'required', rate_limit: limited('sub') },
      { path: '/b/*', access: 'required', rate_limit: limited('sub') },
    ]);
    const token = await tokenFor({ sub: `dave-${unique()}` });
    for (let i = 0; i < LIMIT; i++) expect(await status(bearer(token, '/a/x'), vars)).toBe(200);
    expect(await status(bearer(token, '/a/x'), vars)).toBe(429);
    expect(await status(bearer(token, '/b/x'), vars)).toBe(200);
  });

  it('never logs the key in clear', async () => {
    const vars = {
      ...policy([{ path: '/*', access: 'required', rate_limit: limited('sub') }]),
      LOG_SUCCESS_SAMPLE: '1',
    } as Env;
    const sub = `erin-${unique()}`;
    const ip = clientIp();
    const token = await tokenFor({ sub });
    for (let i = 0; i <= LIMIT; i++)
      await callWorker(bearer(token, '/x', { headers: { 'cf-connecting-ip': ip } }), vars);
    expect(logged.some((line) => line.includes('rate_limited'))).toBe(true);
    for (const line of logged) {
      expect(line).not.toContain(sub);
      expect(line).not.toContain(ip);
    }
  });

  it('a missing binding: 500 config_invalid naming it, nothing forwarded', async () => {
    const origin = new TestOrigin();
    const vars = { ...policy([{ path: '/*', access: 'required', rate_limit: limited('sub') }], origin) } as Env;
    delete (vars as unknown as Record<string, unknown>)[BINDING];
    const response = await callWorker(bearer(await tokenFor({})), vars);
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ code: 'config_invalid', detail: expect.stringContaining(BINDING) });
    expect(await origin.hits()).toBe(0);
  });

  it('a binding that fails lets the request through, with a warning', async () => {
    const origin = new TestOrigin();
    const failing = {
      limit: () => Promise.reject(new Error('counter down')),
    };
    const vars = {
      ...policy([{ path: '/*', access: 'required', rate_limit: limited('sub') }], origin),
      [BINDING]: failing,
    } as Env;
    expect(await status(bearer(await tokenFor({})), vars)).toBe(200);
    expect(await origin.hits()).toBe(1);
    expect(logged.some((line) => line.includes('"rate_limit_unavailable"'))).toBe(true);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a claim key on a public route',
      { access: 'public', rate_limit: limited('sub') },
      'POLICY.routes[0].rate_limit.key',
    ],
    [
      'a period the binding cannot have',
      { access: 'required', rate_limit: { ...limited('sub'), period_seconds: 30 } },
      'POLICY.routes[0].rate_limit.period_seconds',
    ],
    [
      'a binding name that is not one',
      { access: 'required', rate_limit: { ...limited('sub'), binding: 'per-caller' } },
      'POLICY.routes[0].rate_limit.binding',
    ],
  ])('%s is refused at start-up', async (_name, route, path) => {
    const response = await callWorker(bearer(await tokenFor({})), policy([{ path: '/*', ...route }]));
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ code: 'config_invalid', detail: expect.stringContaining(path) });
  });
});

describe('the rate-limit key', () => {
  const bySub: RateLimitConfig = { binding: BINDING, periodSeconds: 60, key: { kind: 'claim', claim: 'sub' } };
  const request = new Request(WORKER_URL, { headers: { 'cf-connecting-ip': '192.0.2.7' } });

  const corp = (claims: JWTPayload) => ({ claims, issuerId: 'corp', tenant: undefined });

  it('is the keyed claim with the issuer that vouches for it, else the client address', () => {
    expect(rateLimitSubject(bySub, corp({ sub: 'alice' }), request)).toBe('claim:corp\n\nalice');
    expect(rateLimitSubject(bySub, corp({ sub: '' }), request)).toBe('ip:192.0.2.7');
    expect(rateLimitSubject(bySub, null, request)).toBe('ip:192.0.2.7');
    const byOrg: RateLimitConfig = { ...bySub, key: { kind: 'claim', claim: 'org' } };
    expect(rateLimitSubject(byOrg, corp({ org: { id: 7 } }), request)).toBe('claim:corp\n\n{"id":7}');
    const byIp: RateLimitConfig = { ...bySub, key: { kind: 'client_ip' } };
    expect(rateLimitSubject(byIp, corp({ sub: 'alice' }), request)).toBe('ip:192.0.2.7');
  });

  it('another issuer’s or another tenant’s caller with the same claim has a count of its own', () => {
    const alice = rateLimitSubject(bySub, corp({ sub: 'alice' }), request);
    const partner = { claims: { sub: 'alice' }, issuerId: 'partner', tenant: undefined };
    expect(rateLimitSubject(bySub, partner, request)).not.toBe(alice);
    const tenant = (id: string) => ({ claims: { sub: 'alice' }, issuerId: 'entra', tenant: id });
    expect(rateLimitSubject(bySub, tenant('t1'), request)).not.toBe(rateLimitSubject(bySub, tenant('t2'), request));
  });

  it('is a SHA-256 of the route label and the subject: nothing of the identity in clear, another route another key', async () => {
    const key = await rateLimitKey('/api/*', 'claim:alice');
    const bytes = new Uint8Array(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode('/api/*\nclaim:alice')),
    );
    expect(key).toBe(
      btoa(String.fromCharCode(...bytes))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, ''),
    );
    expect(key).not.toContain('alice');
    expect(await rateLimitKey('/other/*', 'claim:alice')).not.toBe(key);
  });
});
