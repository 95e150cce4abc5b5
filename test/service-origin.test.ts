import { env } from 'cloudflare:workers';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../src/config.ts';
import type { Env } from '../src/env.ts';
import { ConfigError } from '../src/errors.ts';
import { verifyIdentitySignature } from '../src/identity/signature.ts';
import { createApp } from '../src/worker/app.ts';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { policyIssuer, policyVars } from './helpers/policy.ts';
import { bearer, callWorker, varsFor, WORKER_URL } from './helpers/worker.ts';

/** What the echo Worker behind the service binding received (test/setup/echo-service.js). */
interface ServiceEcho {
  method: string;
  url: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  bodyBytes: number;
  bodySha256: string;
}

/** The echo Worker, bound to the test runner as ORIGIN_SERVICE (vitest.config.ts). */
const service = (env as unknown as Env).ORIGIN_SERVICE as Fetcher;
const SECRET = 'identity-signing-key-for-tests-0123456789';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.create();
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

/** A private first path segment: the echo Worker counts requests per segment. */
function privatePrefix(): string {
  return `/s${crypto.randomUUID().slice(0, 12)}`;
}

async function serviceHits(prefix: string): Promise<number> {
  const response = await service.fetch(`https://echo.test/__stats${prefix}`);
  return ((await response.json()) as { hits: number }).hits;
}

/** The flat variables without ORIGIN, with the binding in the env beside them. */
function flatVars(extra: Partial<Env> = {}): Env {
  return varsFor(issuer, new TestOrigin(), { ORIGIN: undefined, ORIGIN_SERVICE: service, ...extra });
}

async function serviceEcho(response: Response): Promise<ServiceEcho> {
  expect(response.status).toBe(200);
  expect(response.headers.get('x-origin')).toBe('echo-service');
  return (await response.json()) as ServiceEcho;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function problem(response: Response): Promise<{ code: string; detail?: string }> {
  return (await response.json()) as { code: string; detail?: string };
}

describe('the flat variables without ORIGIN', () => {
  it('forward through ORIGIN_SERVICE with method, URL, body and the same header plan', async () => {
    const prefix = privatePrefix();
    const body = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 65_536) crypto.getRandomValues(body.subarray(i, i + 65_536));
    const token = await issuer.mint({ claims: { sub: 'real-user' } });
    const request = bearer(token, `${prefix}/v1/items?sort=desc&x=%20y`, {
      method: 'PUT',
      body,
      headers: {
        'x-auth-subject': 'admin',
        'X-Auth-Role': 'superuser',
        connection: 'keep-alive, x-secret-hop',
        'x-secret-hop': '1',
        'proxy-authorization': 'Basic eA==',
        te: 'trailers',
        'x-keep-me': 'yes',
      },
    });
    const echo = await serviceEcho(await callWorker(request, flatVars()));
    expect(echo.method).toBe('PUT');
    expect(echo.url).toBe(`${WORKER_URL}${prefix}/v1/items?sort=desc&x=%20y`);
    expect(echo.path).toBe(`${prefix}/v1/items`);
    expect(echo.query).toBe('?sort=desc&x=%20y');
    expect(echo.bodyBytes).toBe(body.length);
    expect(echo.bodySha256).toBe(await sha256Hex(body));
    expect(echo.headers['x-auth-subject']).toBe('real-user');
    expect(echo.headers['x-auth-claims']).toBe(token.split('.')[1]);
    expect(echo.headers['x-auth-role']).toBeUndefined();
    expect(echo.headers['x-secret-hop']).toBeUndefined();
    expect(echo.headers['proxy-authorization']).toBeUndefined();
    expect(echo.headers.te).toBeUndefined();
    expect(echo.headers['x-keep-me']).toBe('yes');
    expect(echo.headers.authorization).toBe(`Bearer ${token}`);
    expect(await serviceHits(prefix)).toBe(1);
  });

  it('never reach the service with a refused request', async () => {
    const prefix = privatePrefix();
    const vars = flatVars({ REQUIRED_SCOPES: 'write' });
    const refused = [
      new Request(`${WORKER_URL}${prefix}/a`),
      bearer('not.a.token', `${prefix}/a`),
      bearer(await issuer.mint({ claims: { exp: Math.floor(Date.now() / 1000) - 3600 } }), `${prefix}/a`),
      bearer(await issuer.mint({ claims: { scope: 'read' } }), `${prefix}/a`),
    ];
    const statuses = [];
    for (const request of refused) statuses.push((await callWorker(request, vars)).status);
    expect(statuses).toEqual([401, 401, 401, 403]);
    expect(await serviceHits(prefix)).toBe(0);
    // The counter does count: one allowed request, one hit.
    await serviceEcho(await callWorker(bearer(await issuer.mint({ claims: { scope: 'write' } }), `${prefix}/a`), vars));
    expect(await serviceHits(prefix)).toBe(1);
  });

  it('answer 500 config_invalid, forwarding nothing, when the Worker has no ORIGIN_SERVICE binding', async () => {
    const prefix = privatePrefix();
    const vars = flatVars({ ORIGIN_SERVICE: undefined, PUBLIC_PATHS: `${prefix}/public` });
    for (const request of [bearer(await issuer.mint(), `${prefix}/a`), new Request(`${WORKER_URL}${prefix}/public`)]) {
      const response = await callWorker(request, vars);
      expect(response.status).toBe(500);
      expect(await problem(response)).toMatchObject({
        code: 'config_invalid',
        detail: 'ORIGIN is required',
      });
    }
    expect(await serviceHits(prefix)).toBe(0);
  });

  it('answer 500 config_invalid when ORIGIN_SERVICE is not a service binding', async () => {
    const vars = flatVars({ ORIGIN_SERVICE: { fetch: 'no' } as unknown as Fetcher });
    const response = await callWorker(bearer(await issuer.mint()), vars);
    expect(response.status).toBe(500);
    expect((await problem(response)).code).toBe('config_invalid');
  });

  it('use ORIGIN when it is set, even beside the binding', async () => {
    const prefix = privatePrefix();
    const origin = new TestOrigin();
    const vars = varsFor(issuer, origin, { ORIGIN_SERVICE: service });
    const response = await callWorker(bearer(await issuer.mint(), `${prefix}/a`), vars);
    expect(response.headers.get('x-origin')).toBe('echo');
    expect(await origin.hits()).toBe(1);
    expect(await serviceHits(prefix)).toBe(0);
  });
});

describe('forwarding through a service binding', () => {
  it('passes a redirect back to the client untouched', async () => {
    const response = await callWorker(bearer(await issuer.mint(), `${privatePrefix()}/redirect`), flatVars());
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/elsewhere');
  });

  it('answers 502 origin_unreachable when the service throws', async () => {
    const response = await callWorker(bearer(await issuer.mint(), `${privatePrefix()}/throw`), flatVars());
    expect(response.status).toBe(502);
    expect((await problem(response)).code).toBe('origin_unreachable');
  });

  it('signs the path and query the service receives', async () => {
    const prefix = privatePrefix();
    const vars = policyVars(
      {
        issuers: { corp: policyIssuer(issuer) },
        routes: [{ path: '/*', access: 'required' }],
        origin_service: 'ORIGIN_SERVICE',
        headers: { 'X-Tenant': 'tenant' },
        sign_headers: { secret: 'IDENTITY_SIGNING_KEY' },
      },
      { ORIGIN_SERVICE: service, IDENTITY_SIGNING_KEY: SECRET },
    );
    const token = await issuer.mint({ claims: { tenant: 'acme' } });
    const echo = await serviceEcho(
      await callWorker(bearer(token, `${prefix}/orders/42?expand=items`, { method: 'POST', body: 'x' }), vars),
    );
    const received = new Request(echo.url, { method: echo.method, headers: echo.headers });
    const check = await verifyIdentitySignature(received, SECRET);
    expect(check).toMatchObject({ valid: true, headers: ['x-auth-subject', 'x-auth-claims', 'x-tenant'] });
    // Another path or query at the service would not verify.
    const elsewhere = new Request(`${WORKER_URL}${prefix}/orders/42`, { method: echo.method, headers: echo.headers });
    expect(await verifyIdentitySignature(elsewhere, SECRET)).toMatchObject({ valid: false, reason: 'mismatch' });
  });
});

describe('POLICY origin_service', () => {
  /** A route under `prefix` through the service bound as BILLING; every other path to `origin`. */
  function billingPolicy(prefix: string, origin: TestOrigin): Record<string, unknown> {
    return {
      issuers: { corp: policyIssuer(issuer) },
      routes: [
        { path: `${prefix}/service/*`, access: 'required', origin_service: 'BILLING' },
        { path: '/*', access: 'required' },
      ],
      origin: origin.url,
    };
  }

  /** A policy that only parses: nothing is fetched. */
  function offlinePolicy(top: Record<string, unknown>, route: Record<string, unknown>): Record<string, unknown> {
    return {
      issuers: { corp: { issuer: 'https://corp.example/', audiences: ['https://api.example.test'] } },
      routes: [{ path: '/*', access: 'public', ...route }],
      ...top,
    };
  }

  it('sends a route to the service binding it names, and another route to its URL origin', async () => {
    const prefix = privatePrefix();
    const origin = new TestOrigin();
    const vars = policyVars(billingPolicy(prefix, origin), { BILLING: service });
    const token = await issuer.mint();
    const echo = await serviceEcho(await callWorker(bearer(token, `${prefix}/service/a?b=c`), vars));
    expect(echo.url).toBe(`${WORKER_URL}${prefix}/service/a?b=c`);
    const other = await callWorker(bearer(token, `${prefix}/other`), vars);
    expect(other.headers.get('x-origin')).toBe('echo');
    expect(await origin.hits()).toBe(1);
    expect(await serviceHits(prefix)).toBe(1);
  });

  it('never reaches the service with a refused request', async () => {
    const prefix = privatePrefix();
    const vars = policyVars(billingPolicy(prefix, new TestOrigin()), { BILLING: service });
    expect((await callWorker(new Request(`${WORKER_URL}${prefix}/service/a`), vars)).status).toBe(401);
    expect((await callWorker(bearer('x.y.z', `${prefix}/service/a`), vars)).status).toBe(401);
    expect(await serviceHits(prefix)).toBe(0);
  });

  it("lets a route's origin win over the policy's origin_service, which wins over ORIGIN", async () => {
    const prefix = privatePrefix();
    const routeOrigin = new TestOrigin();
    const fallback = new TestOrigin();
    const vars = policyVars(
      {
        issuers: { corp: policyIssuer(issuer) },
        routes: [
          { path: `${prefix}/url/*`, access: 'public', origin: routeOrigin.url },
          { path: '/*', access: 'public' },
        ],
        origin_service: 'BILLING',
      },
      { BILLING: service, ORIGIN: fallback.url },
    );
    expect((await callWorker(new Request(`${WORKER_URL}${prefix}/url/a`), vars)).headers.get('x-origin')).toBe('echo');
    await serviceEcho(await callWorker(new Request(`${WORKER_URL}${prefix}/b`), vars));
    expect(await routeOrigin.hits()).toBe(1);
    expect(await serviceHits(prefix)).toBe(1);
    expect(await fallback.hits()).toBe(0);
  });

  it('answers 500 config_invalid, forwarding nothing, when the Worker lacks the binding', async () => {
    const prefix = privatePrefix();
    const origin = new TestOrigin();
    const vars = policyVars(billingPolicy(prefix, origin));
    const response = await callWorker(bearer(await issuer.mint(), `${prefix}/service/a`), vars);
    expect(response.status).toBe(500);
    expect(await problem(response)).toMatchObject({
      code: 'config_invalid',
      detail: 'BILLING is not a service binding of this Worker',
    });
    // Routes that name a URL origin still work.
    expect((await callWorker(bearer(await issuer.mint(), `${prefix}/other`), vars)).status).toBe(200);
    expect(await serviceHits(prefix)).toBe(0);
  });

  it.each([
    ['POLICY.origin_service', { origin: 'https://origin.example', origin_service: 'BILLING' }, {}],
    ['POLICY.routes[0].origin_service', {}, { origin: 'https://origin.example', origin_service: 'BILLING' }],
  ])('refuses origin and origin_service together at %s', (path, top, route) => {
    const parse = () => parseConfig({ POLICY: offlinePolicy(top, route) });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(`${path}: cannot be set together with origin`);
  });

  it.each([
    ['POLICY.origin_service', { origin_service: 'not-a-binding' }, {}],
    ['POLICY.routes[0].origin_service', {}, { origin_service: '' }],
  ])('refuses a name that is not a binding name at %s', (path, top, route) => {
    expect(() => parseConfig({ POLICY: offlinePolicy(top, route) })).toThrow(
      `${path}: must be the name of a service binding`,
    );
  });

  it('still refuses to build a gateway when a route has no origin of any kind', () => {
    const policy = offlinePolicy({}, {});
    policy.routes = [{ path: '/a', access: 'public', origin_service: 'BILLING' }, ...(policy.routes as unknown[])];
    const config = parseConfig({ POLICY: policy });
    expect(() => createApp(config)).toThrow(ConfigError);
    expect(() => createApp({ ...config, originService: 'BILLING' })).not.toThrow();
  });
});
