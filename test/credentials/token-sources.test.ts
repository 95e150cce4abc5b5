import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../../src/env.ts';
import { TestIssuer } from '../helpers/issuer.ts';
import { type Echo, TestOrigin } from '../helpers/origin.ts';
import { policyIssuer, policyVars } from '../helpers/policy.ts';
import { callWorker, varsFor, WORKER_URL } from '../helpers/worker.ts';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.create();
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

const ACCESS_SOURCES = ['authorization', { header: 'Cf-Access-Jwt-Assertion' }, { cookie: 'CF_Authorization' }];

function withSources(origin: TestOrigin, sources: unknown[], extra: Record<string, unknown> = {}): Env {
  return policyVars({
    issuers: { corp: policyIssuer(issuer) },
    routes: [
      { path: '/public/*', access: 'public' },
      { path: '/*', access: 'required' },
    ],
    origin: origin.url,
    token_sources: sources,
    ...extra,
  });
}

async function outcome(response: Response): Promise<string> {
  if (response.status === 200) return 'ok';
  return `${response.status} ${((await response.json()) as { code: string }).code}`;
}

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Request {
  return new Request(`${WORKER_URL}${path}`, { method, headers });
}

describe('token sources', () => {
  it('reads the token from a header, a cookie or a query parameter, each on its own', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const vars = withSources(origin, [...ACCESS_SOURCES, { query: 'token' }]);
    expect(await outcome(await callWorker(get('/x', { authorization: `Bearer ${token}` }), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/x', { 'cf-access-jwt-assertion': token }), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/x', { cookie: `a=1; CF_Authorization=${token}; b=2` }), vars))).toBe(
      'ok',
    );
    expect(await outcome(await callWorker(get(`/x?token=${token}`), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/x'), vars))).toBe('401 missing_token');
    expect(await origin.hits()).toBe(4);
  });

  it('takes the same token from several sources as one (Cloudflare Access sends the header and the cookie)', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const request = get('/x', { 'cf-access-jwt-assertion': token, cookie: `CF_Authorization=${token}` });
    expect(await outcome(await callWorker(request, withSources(origin, ACCESS_SOURCES)))).toBe('ok');
  });

  it('refuses two different tokens (400 multiple_tokens, RFC 6750 §2) before verifying either', async () => {
    const origin = new TestOrigin();
    const [one, two] = [await issuer.mint(), await issuer.mint({ claims: { sub: 'other' } })];
    const vars = withSources(origin, ACCESS_SOURCES);
    const response = await callWorker(
      get('/x', { authorization: `Bearer ${one}`, cookie: `CF_Authorization=${two}` }),
      vars,
    );
    expect(response.status).toBe(400);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_request"');
    expect(await outcome(response)).toBe('400 multiple_tokens');
    const twoCookies = get('/x', { cookie: `CF_Authorization=${one}; CF_Authorization=${two}` });
    expect(await outcome(await callWorker(twoCookies, vars))).toBe('400 multiple_tokens');
    expect(await origin.hits()).toBe(0);
  });

  it('does not read Authorization on a route whose sources leave it out', async () => {
    const origin = new TestOrigin();
    const vars = withSources(origin, [{ cookie: 'session' }]);
    const response = await callWorker(get('/x', { authorization: `Bearer ${await issuer.mint()}` }), vars);
    expect(await outcome(response)).toBe('401 missing_token');
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
  });

  it('a route overrides the top-level sources', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const vars = policyVars({
      issuers: { corp: policyIssuer(issuer) },
      routes: [
        { path: '/downloads/*', access: 'required', token_sources: [{ query: 'access_token' }] },
        { path: '/*', access: 'required' },
      ],
      origin: origin.url,
    });
    expect(await outcome(await callWorker(get(`/downloads/a?access_token=${token}`), vars))).toBe('ok');
    // Elsewhere the query form stays refused beside a header token, and is no token on its own.
    expect(
      await outcome(await callWorker(get(`/x?access_token=${token}`, { authorization: `Bearer ${token}` }), vars)),
    ).toBe('400 malformed_authorization');
    expect(await outcome(await callWorker(get(`/x?access_token=${token}`), vars))).toBe('401 missing_token');
  });

  it('removes a query source parameter from the URL the origin receives, and keeps the rest of the query', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const vars = withSources(origin, [{ query: 'access_token' }]);
    const response = await callWorker(get(`/x?a=1&access_token=${token}&b=%2F`), vars);
    const echo = (await response.json()) as Echo;
    expect(echo.query).toBe('?a=1&b=%2F');
    // On a public route too: a credential in a URL ends up in logs.
    const open = await callWorker(get(`/public/y?access_token=${token}`), vars);
    expect(((await open.json()) as Echo).query).toBe('');
  });

  it('refuses a cookie token on a cross-site state-changing request (403 cross_site_cookie), and nothing else', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const vars = withSources(origin, ACCESS_SOURCES);
    const cookie = { cookie: `CF_Authorization=${token}` };
    const crossSite = await callWorker(get('/x', { ...cookie, 'sec-fetch-site': 'cross-site' }, 'POST'), vars);
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('www-authenticate')).toBeNull();
    expect(crossSite.headers.get('content-type')).toBe('application/problem+json');
    expect(await outcome(crossSite)).toBe('403 cross_site_cookie');
    // A safe method, a same-site request, a client that sends no Sec-Fetch-Site, or the header beside the cookie: accepted.
    for (const [headers, method] of [
      [{ ...cookie, 'sec-fetch-site': 'cross-site' }, 'GET'],
      [{ ...cookie, 'sec-fetch-site': 'same-site' }, 'POST'],
      [cookie, 'DELETE'],
      [{ ...cookie, 'sec-fetch-site': 'cross-site', 'cf-access-jwt-assertion': token }, 'POST'],
    ] as const) {
      expect(await outcome(await callWorker(get('/x', headers, method), vars))).toBe('ok');
    }
  });

  it('forward_authorization false removes the token from where it came: header, cookie, Authorization', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const vars = withSources(origin, ACCESS_SOURCES, { forward_authorization: false });
    const response = await callWorker(
      get('/x', { 'cf-access-jwt-assertion': token, cookie: `theme=dark; CF_Authorization=${token}; lang=en` }),
      vars,
    );
    const echo = (await response.json()) as Echo;
    expect(echo.headers['cf-access-jwt-assertion']).toBeUndefined();
    expect(echo.headers.cookie).toBe('theme=dark; lang=en');
    const viaAuthorization = await callWorker(get('/x', { authorization: `Bearer ${token}` }), vars);
    expect(((await viaAuthorization.json()) as Echo).headers.authorization).toBeUndefined();
    // Forwarded as sent by default.
    const kept = await callWorker(
      get('/x', { cookie: `CF_Authorization=${token}` }),
      withSources(origin, ACCESS_SOURCES),
    );
    expect(((await kept.json()) as Echo).headers.cookie).toBe(`CF_Authorization=${token}`);
  });

  it('refuses malformed values in a source rather than taking them for no token', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const vars = withSources(origin, [...ACCESS_SOURCES, { query: 'token' }]);
    expect(await outcome(await callWorker(get('/x', { 'cf-access-jwt-assertion': `${token}, ${token}` }), vars))).toBe(
      '400 malformed_authorization',
    );
    expect(await outcome(await callWorker(get('/x', { 'cf-access-jwt-assertion': ' ' }), vars))).toBe(
      '400 malformed_authorization',
    );
    expect(await outcome(await callWorker(get('/x?token='), vars))).toBe('400 malformed_authorization');
    expect(await outcome(await callWorker(get('/x', { cookie: 'CF_Authorization=' }), vars))).toBe('401 missing_token');
  });

  it('sets no X-Auth-Subject for an empty sub (Cloudflare Access service tokens)', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims: { sub: '' } });
    const response = await callWorker(
      get('/x', { 'cf-access-jwt-assertion': token }),
      withSources(origin, ACCESS_SOURCES),
    );
    const echo = (await response.json()) as Echo;
    expect(echo.headers['x-auth-subject']).toBeUndefined();
    expect(echo.headers['x-auth-claims']).toBeTruthy();
  });

  it('works from the flat variables with TOKEN_SOURCES', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const vars = varsFor(issuer, origin, {
      TOKEN_SOURCES: 'header:Cf-Access-Jwt-Assertion, cookie:CF_Authorization',
    } as Partial<Env>);
    expect(await outcome(await callWorker(get('/x', { cookie: `CF_Authorization=${token}` }), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/x', { authorization: `Bearer ${token}` }), vars))).toBe(
      '401 missing_token',
    );
  });
});
