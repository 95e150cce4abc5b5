import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../../src/env.ts';
import { TestIssuer } from '../helpers/issuer.ts';
import { type Echo, TestOrigin } from '../helpers/origin.ts';
import { policyIssuer, policyVars } from '../helpers/policy.ts';
import { bearer, callWorker, WORKER_URL } from '../helpers/worker.ts';

/**
 * Path confusion: a request whose path the gateway reads one way and the origin another. Each
 * probe is sent with no token and with a token that holds `read` but not `admin`; whatever is
 * forwarded is read back the way the most lenient origins read paths (servlet containers drop
 * `;` parameters and resolve `..;`, frameworks decode every percent-encoding, IIS and many stacks
 * merge slashes and trim spaces and dots, and case-insensitive ones fold case), and must never
 * read as `/admin/...`.
 */

let issuer: TestIssuer;
let readOnly: string;
let admin: string;
beforeAll(async () => {
  issuer = await TestIssuer.create();
  readOnly = await issuer.mint({ claims: { scope: 'read' } });
  admin = await issuer.mint({ claims: { scope: 'read admin' } });
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

const ROUTES = [
  { path: '/public/*', access: 'public' },
  { path: '/api/*', access: 'required', scopes: { all: ['read'] } },
  { path: '/admin/*', access: 'required', scopes: { all: ['admin'] } },
];

function policy(origin: TestOrigin, { catchAll = false, ...extra }: Record<string, unknown> = {}): Env {
  const routes = catchAll ? [...ROUTES, { path: '/*', access: 'public' }] : ROUTES;
  return policyVars({ issuers: { corp: policyIssuer(issuer) }, routes, origin: origin.url, ...extra });
}

/** The path as the most lenient origin would route it. */
function readsAs(path: string, foldCase: boolean): string {
  let decoded = path;
  for (let i = 0; i < 3; i++) decoded = decodeURIComponentLenient(decoded);
  const out: string[] = [];
  for (const raw of decoded.replaceAll('\\', '/').split('/')) {
    const segment = (raw.split(';')[0] as string).replace(/^[\s\0]+/, '');
    if (segment === '..') out.pop();
    else {
      const trimmed = segment.replace(/[\s\0.]+$/, '');
      if (trimmed !== '' && segment !== '.') out.push(trimmed);
    }
  }
  const read = `/${out.join('/')}`;
  return foldCase ? read.toLowerCase() : read;
}

function decodeURIComponentLenient(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

const PROBES = [
  '/public/..;/admin/x',
  '/public/..;/..;/admin/x',
  '/api/..;/admin/x',
  '/admin;jsessionid=1/x',
  '/admin;/x',
  '/%61dmin/x',
  '/adm%69n/x',
  '/%61%64%6d%69%6e/x',
  '//admin/x',
  '/public//../admin/x',
  '/admin%00/x',
  '/admin%20/x',
  '/%20admin/x',
  '/admin./x',
  '/admin%2e/x',
  '/admin%09/x',
  '/public/%2e%2e/admin/x',
  '/public/%2e%2e%2fadmin/x',
  '/public/..%5cadmin/x',
  '/public\\..\\admin\\x',
  '/api/x/%2e%2e/%2e%2e/admin/x',
];

const CASE_PROBES = ['/ADMIN/x', '/Admin/x', '/%41dmin/x', '/aDmIn/x'];

describe('no probe reaches the origin as a path that reads as /admin/... without the admin scope', () => {
  for (const catchAll of [false, true]) {
    for (const caseSensitive of [true, false]) {
      const probes = caseSensitive ? PROBES : [...PROBES, ...CASE_PROBES];
      const label = `${catchAll ? 'with' : 'without'} a public catch-all, case_sensitive ${caseSensitive}`;
      it(`${label}: ${probes.length} probes, with no token and with a read-only token`, async () => {
        const origin = new TestOrigin();
        const vars = policy(origin, { catchAll, case_sensitive: caseSensitive });
        let forwarded = 0;
        for (const probe of probes) {
          for (const token of [undefined, readOnly]) {
            const request = token ? bearer(token, probe) : new Request(`${WORKER_URL}${probe}`);
            const response = await callWorker(request, vars);
            if (response.status !== 200) {
              expect([400, 401, 403, 404], `${probe}: ${response.status}`).toContain(response.status);
              continue;
            }
            forwarded++;
            const echo = (await response.json()) as Echo;
            const received = echo.path.slice(origin.id.length + 1);
            expect(readsAs(received, !caseSensitive), `${probe} reached the origin as ${received}`).not.toMatch(
              /^\/admin(?:\/|$)/i,
            );
          }
        }
        expect(await origin.hits()).toBe(forwarded);
      });
    }
  }

  it.each([
    ['/public/..;/admin/x', 404, 'no_route'],
    ['/api/..;/admin/x', 404, 'no_route'],
    ['/admin;jsessionid=1/x', 404, 'no_route'],
    ['/%61dmin/x', 401, undefined],
    ['/adm%69n/x', 401, undefined],
    ['//admin/x', 401, undefined],
    ['/admin%00/x', 400, 'malformed_path'],
    ['/admin%20/x', 400, 'malformed_path'],
    ['/admin./x', 400, 'malformed_path'],
  ])('%s with a public catch-all answers %i', async (probe, status, code) => {
    const origin = new TestOrigin();
    const response = await callWorker(new Request(`${WORKER_URL}${probe}`), policy(origin, { catchAll: true }));
    expect(response.status).toBe(status);
    if (code) {
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(((await response.json()) as { code: string }).code).toBe(code);
    }
    expect(await origin.hits()).toBe(0);
  });

  it('case variants of /admin need the admin scope when case_sensitive is false, and the origin gets the path as sent', async () => {
    const origin = new TestOrigin();
    const vars = policy(origin, { catchAll: true, case_sensitive: false });
    for (const probe of CASE_PROBES) {
      expect((await callWorker(bearer(readOnly, probe), vars)).status).toBe(403);
      const allowed = await callWorker(bearer(admin, probe), vars);
      expect(allowed.status).toBe(200);
      const expected = new URL(`${WORKER_URL}${probe}`).pathname.replace('%41', 'A');
      expect(((await allowed.json()) as Echo).path).toBe(`/${origin.id}${expected}`);
    }
  });
});

describe('the origin receives the normalised path that the route matched', () => {
  it('decodes unreserved characters, merges slashes, resolves dots, and passes the query on unchanged', async () => {
    const origin = new TestOrigin();
    const vars = policy(origin);
    for (const [sent, received] of [
      ['/%61pi//items/./1?q=%2F%20x&b=1', '/api/items/1'],
      ['/api/files/my%20doc%2epdf?download', '/api/files/my%20doc.pdf'],
      ['/api/caf%c3%a9', '/api/caf%C3%A9'],
    ] as const) {
      const response = await callWorker(bearer(readOnly, sent), vars);
      expect(response.status).toBe(200);
      const echo = (await response.json()) as Echo;
      expect(echo.path).toBe(`/${origin.id}${received}`);
      expect(echo.query).toBe(new URL(`${WORKER_URL}${sent}`).search);
    }
  });

  it('keeps path parameters where path_parameters is keep, matched literally, on a route or for the whole policy', async () => {
    const origin = new TestOrigin();
    const routes = [
      { path: '/files/*', access: 'required', scopes: { all: ['read'] }, path_parameters: 'keep' },
      ...ROUTES,
    ];
    const perRoute = policyVars({ issuers: { corp: policyIssuer(issuer) }, routes, origin: origin.url });
    const kept = await callWorker(bearer(readOnly, '/files/report;v=2/x'), perRoute);
    expect(((await kept.json()) as Echo).path).toBe(`/${origin.id}/files/report;v=2/x`);
    // Elsewhere the default still refuses them.
    expect((await callWorker(bearer(readOnly, '/api/x;v=2'), perRoute)).status).toBe(404);
    // `..;` under keep is data, not a parent segment: it stays inside the route that matched it.
    const literal = await callWorker(
      new Request(`${WORKER_URL}/public/..;/admin/x`),
      policy(origin, { path_parameters: 'keep' }),
    );
    expect(literal.status).toBe(200);
    expect(((await literal.json()) as Echo).path).toBe(`/${origin.id}/public/..;/admin/x`);
  });

  it('keeps and matches empty segments literally when merge_slashes is false', async () => {
    const origin = new TestOrigin();
    const vars = policy(origin, { catchAll: true, merge_slashes: false });
    const response = await callWorker(new Request(`${WORKER_URL}//admin/x`), vars);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Echo).path).toBe(`/${origin.id}//admin/x`);
    expect((await callWorker(new Request(`${WORKER_URL}/admin/x`), vars)).status).toBe(401);
  });

  it('normalises the flat variables catch-all too', async () => {
    const origin = new TestOrigin();
    const vars = {
      ISSUER: issuer.url,
      AUDIENCE: 'https://api.example.test',
      JWKS_URI: issuer.jwksUri,
      ORIGIN: origin.url,
    };
    const response = await callWorker(bearer(readOnly, '/%61pi//items'), vars as Env);
    expect(((await response.json()) as Echo).path).toBe(`/${origin.id}/api/items`);
    expect((await callWorker(bearer(readOnly, '/x;y'), vars as Env)).status).toBe(404);
    expect((await callWorker(bearer(readOnly, '/x%00'), vars as Env)).status).toBe(400);
  });
});

describe('method and URL override headers', () => {
  const OVERRIDES = {
    'x-http-method-override': 'DELETE',
    'x-http-method': 'DELETE',
    'x-method-override': 'DELETE',
    'x-original-url': '/admin/x',
    'x-rewrite-url': '/admin/x',
  };
  const routes = [
    { path: '/api/*', methods: ['DELETE'], access: 'required', scopes: { all: ['admin'] } },
    ...ROUTES,
    { path: '/*', access: 'public' },
  ];
  const vars = (origin: TestOrigin, forward?: boolean) =>
    policyVars({
      issuers: { corp: policyIssuer(issuer) },
      routes,
      origin: origin.url,
      ...(forward === undefined ? {} : { forward_override_headers: forward }),
    });

  it('never reach the origin by default, and do not change the route', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(bearer(readOnly, '/api/x', { method: 'POST', headers: OVERRIDES }), vars(origin));
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Echo;
    expect(echo.method).toBe('POST');
    for (const name of Object.keys(OVERRIDES)) expect(echo.headers[name]).toBeUndefined();
  });

  it('with forward_override_headers, route by the overriding method: a POST overriding to DELETE needs the DELETE route scope', async () => {
    const origin = new TestOrigin();
    const override = { 'x-http-method-override': 'delete' };
    const refused = await callWorker(
      bearer(readOnly, '/api/x', { method: 'POST', headers: override }),
      vars(origin, true),
    );
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('scope="admin"');
    const allowed = await callWorker(
      bearer(admin, '/api/x', { method: 'POST', headers: override }),
      vars(origin, true),
    );
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as Echo).headers['x-http-method-override']).toBe('delete');
    expect(await origin.hits()).toBe(1);
  });

  it('with forward_override_headers, a URL override and the request path must both be admitted', async () => {
    const origin = new TestOrigin();
    const v = vars(origin, true);
    // Public path, admin override: the override's route decides.
    expect(
      (await callWorker(new Request(`${WORKER_URL}/public/x`, { headers: { 'x-original-url': '/%61dmin/x' } }), v))
        .status,
    ).toBe(401);
    expect(
      (await callWorker(bearer(readOnly, '/public/x', { headers: { 'x-rewrite-url': '/admin/x?y=1' } }), v)).status,
    ).toBe(403);
    // Admin path, public override: an origin that ignores the header executes /admin/x.
    expect(
      (await callWorker(new Request(`${WORKER_URL}/admin/x`, { headers: { 'x-original-url': '/public/x' } }), v))
        .status,
    ).toBe(401);
    expect(
      (await callWorker(bearer(readOnly, '/admin/x', { headers: { 'x-original-url': '/api/x' } }), v)).status,
    ).toBe(403);
    const both = await callWorker(bearer(admin, '/public/x', { headers: { 'x-original-url': '/admin/x' } }), v);
    expect(both.status).toBe(200);
    expect(await origin.hits()).toBe(1);
  });

  it('refuses override headers that disagree or are malformed (400 invalid_override)', async () => {
    const origin = new TestOrigin();
    for (const headers of <Record<string, string>[]>[
      { 'x-http-method-override': 'DELETE', 'x-http-method': 'PUT' },
      { 'x-http-method-override': 'DEL ETE' },
      { 'x-original-url': '/admin/x', 'x-rewrite-url': '/api/x' },
      { 'x-original-url': 'https://elsewhere.example/admin' },
      { 'x-original-url': '//elsewhere.example/admin' },
    ]) {
      const response = await callWorker(bearer(admin, '/api/x', { method: 'POST', headers }), vars(origin, true));
      expect(response.status).toBe(400);
      expect(((await response.json()) as { code: string }).code).toBe('invalid_override');
    }
    expect(await origin.hits()).toBe(0);
  });

  it('with forward_override_headers, a preflight carrying an override is not let through unverified', async () => {
    const origin = new TestOrigin();
    const preflight = new Request(`${WORKER_URL}/api/x`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'GET',
        'x-http-method-override': 'DELETE',
      },
    });
    expect((await callWorker(preflight, vars(origin, true))).status).toBe(401);
    expect(await origin.hits()).toBe(0);
  });
});
