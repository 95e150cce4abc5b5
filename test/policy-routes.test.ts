import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TestIssuer } from './helpers/issuer.ts';
import { type Echo, TestOrigin } from './helpers/origin.ts';
import { policyIssuer, policyVars } from './helpers/policy.ts';
import { bearer, callWorker, parseChallenge, WORKER_URL } from './helpers/worker.ts';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.create();
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

async function code(response: Response): Promise<string> {
  return ((await response.json()) as { code: string }).code;
}

function routed(origin: TestOrigin, routes: unknown[], extra: Record<string, unknown> = {}) {
  return policyVars({ issuers: { corp: policyIssuer(issuer) }, routes, origin: origin.url, ...extra });
}

describe('route matching', () => {
  it('matches method and path, first match wins', async () => {
    const origin = new TestOrigin();
    const vars = routed(origin, [
      { path: '/items/*', methods: ['GET'], access: 'public' },
      { path: '/items/*', access: 'required' },
      { path: '/health', access: 'public' },
    ]);
    expect((await callWorker(new Request(`${WORKER_URL}/items/1`), vars)).status).toBe(200);
    expect((await callWorker(new Request(`${WORKER_URL}/items/1`, { method: 'DELETE' }), vars)).status).toBe(401);
    expect((await callWorker(bearer(await issuer.mint(), '/items/1', { method: 'DELETE' }), vars)).status).toBe(200);
    expect((await callWorker(new Request(`${WORKER_URL}/health`), vars)).status).toBe(200);
    expect(await origin.hits()).toBe(3);
  });

  it('answers 404 no_route, forwarding nothing, when no route matches', async () => {
    const origin = new TestOrigin();
    const vars = routed(origin, [
      { path: '/api/*', access: 'required' },
      { path: '/health', methods: ['GET'], access: 'public' },
    ]);
    for (const request of [
      new Request(`${WORKER_URL}/other`),
      bearer(await issuer.mint(), '/other'),
      new Request(`${WORKER_URL}/api`),
      new Request(`${WORKER_URL}/health`, { method: 'POST' }),
    ]) {
      const response = await callWorker(request, vars);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('www-authenticate')).toBeNull();
      expect(await code(response)).toBe('no_route');
    }
    expect(await origin.hits()).toBe(0);
  });

  it('matches no pattern for a path with encoded slash, backslash or dot, so it is never forwarded', async () => {
    const origin = new TestOrigin();
    const vars = routed(origin, [
      { path: '/api/admin/*', access: 'required', scopes: { all: ['admin'] } },
      { path: '/*', access: 'public' },
    ]);
    for (const path of ['/api/x/..%2Fadmin/delete', '/api/x%5c..%5cadmin', '/api/x/%2E%2E%2Fadmin']) {
      const response = await callWorker(new Request(`${WORKER_URL}${path}`), vars);
      expect(response.status).toBe(404);
    }
    expect((await callWorker(new Request(`${WORKER_URL}/about`), vars)).status).toBe(200);
    expect(await origin.hits()).toBe(1);
  });

  it('takes a path with an encoded slash only in a * route, which guards every path alike', async () => {
    const origin = new TestOrigin();
    const vars = routed(origin, [
      { path: '/public/*', access: 'public' },
      { path: '*', access: 'required' },
    ]);
    expect((await callWorker(new Request(`${WORKER_URL}/public/..%2Fadmin`), vars)).status).toBe(401);
    const response = await callWorker(bearer(await issuer.mint(), '/projects/group%2Fproject'), vars);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Echo).path).toBe(`/${origin.id}/projects/group%2Fproject`);
  });

  it('routes a CORS preflight by the method it announces, unverified', async () => {
    const origin = new TestOrigin();
    const vars = routed(origin, [{ path: '/api/*', methods: ['POST'], access: 'required' }]);
    const preflight = (method: string) =>
      new Request(`${WORKER_URL}/api/x`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': method },
      });
    const allowed = await callWorker(preflight('POST'), vars);
    expect(((await allowed.json()) as Echo).method).toBe('OPTIONS');
    expect((await callWorker(preflight('DELETE'), vars)).status).toBe(404);
    expect(await origin.hits()).toBe(1);
  });
});

describe('optional routes', () => {
  const optional = (origin: TestOrigin) => routed(origin, [{ path: '/*', access: 'optional' }]);

  it('forwards a request without a token with no identity headers, whatever the client sent', async () => {
    const origin = new TestOrigin();
    const request = new Request(`${WORKER_URL}/page`, { headers: { 'x-auth-subject': 'admin' } });
    const response = await callWorker(request, optional(origin));
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Echo;
    expect(echo.headers['x-auth-subject']).toBeUndefined();
    expect(echo.headers['x-auth-claims']).toBeUndefined();
  });

  it('verifies a token when one is sent', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(
      bearer(await issuer.mint({ claims: { sub: 'opt-user' } }), '/page'),
      optional(origin),
    );
    expect(((await response.json()) as Echo).headers['x-auth-subject']).toBe('opt-user');
  });

  it('still refuses an invalid token, and another scheme, with 401', async () => {
    const origin = new TestOrigin();
    const expired = await issuer.mint({ at: Math.floor(Date.now() / 1000) - 3600 });
    const refused = await callWorker(bearer(expired, '/page'), optional(origin));
    expect(refused.status).toBe(401);
    expect(parseChallenge(refused.headers.get('www-authenticate')).error).toBe('invalid_token');
    const basic = await callWorker(
      new Request(`${WORKER_URL}/page`, { headers: { authorization: 'Basic dTpw' } }),
      optional(origin),
    );
    expect(basic.status).toBe(401);
    expect(await code(basic)).toBe('unsupported_scheme');
    expect(await origin.hits()).toBe(0);
  });
});

describe('public routes', () => {
  it('are never verified, and client identity headers are still stripped', async () => {
    const origin = new TestOrigin();
    const vars = routed(origin, [{ path: '/*', access: 'public' }]);
    const request = bearer('not-even-a-jwt', '/page', { headers: { 'x-auth-claims': 'eyJ9' } });
    const echo = (await (await callWorker(request, vars)).json()) as Echo;
    expect(echo.headers['x-auth-claims']).toBeUndefined();
    expect(echo.headers.authorization).toBe('Bearer not-even-a-jwt');
  });
});

describe('per-route origin', () => {
  it('sends each route to its own origin, the rest to the policy origin', async () => {
    const main = new TestOrigin();
    const statics = new TestOrigin();
    const vars = routed(main, [
      { path: '/static/*', access: 'public', origin: `${statics.url}/cdn` },
      { path: '/*', access: 'required' },
    ]);
    const asset = (await (await callWorker(new Request(`${WORKER_URL}/static/a.css`), vars)).json()) as Echo;
    expect(asset.path).toBe(`/${statics.id}/cdn/static/a.css`);
    expect((await callWorker(bearer(await issuer.mint(), '/api'), vars)).status).toBe(200);
    expect(await statics.hits()).toBe(1);
    expect(await main.hits()).toBe(1);
  });

  it('needs no policy origin when every route has its own', async () => {
    const origin = new TestOrigin();
    const vars = policyVars({
      issuers: { corp: policyIssuer(issuer) },
      routes: [{ path: '/*', access: 'public', origin: origin.url }],
    });
    expect((await callWorker(new Request(`${WORKER_URL}/x`), vars)).status).toBe(200);
  });

  it('refuses to start when a route has no origin and neither POLICY.origin nor ORIGIN is set', async () => {
    const origin = new TestOrigin();
    const vars = policyVars({
      issuers: { corp: policyIssuer(issuer) },
      routes: [
        { path: '/a', access: 'public', origin: origin.url },
        { path: '/*', access: 'public' },
      ],
    });
    const response = await callWorker(new Request(`${WORKER_URL}/a`), vars);
    expect(response.status).toBe(500);
    expect(await code(response)).toBe('config_invalid');
    expect(await origin.hits()).toBe(0);
  });
});
