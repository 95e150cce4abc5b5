import { beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import type { Env } from '../src/env.ts';
import { verifyIdentitySignature } from '../src/identity/signature.ts';
import { AUDIENCE, TestIssuer } from './helpers/issuer.ts';
import { type Echo, TestOrigin } from './helpers/origin.ts';
import { bearer, callWorker, WORKER_URL } from './helpers/worker.ts';

/** The binding that sign_headers.secret names, and a value long enough to key the signature. */
const SECRET_BINDING = 'IDENTITY_SIGNING_KEY';
const SECRET = 'identity-signing-key-for-tests-0123456789';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.create();
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

/** A POLICY with one issuer, one required catch-all route and `origin`, with `extra` merged over it. */
function policyFor(origin: TestOrigin, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuers: { corp: { issuer: issuer.url, audiences: [AUDIENCE], jwks_uri: issuer.jwksUri } },
    routes: [{ path: '/*', access: 'required' }],
    origin: origin.url,
    ...extra,
  };
}

/** A POLICY that signs with the secret bound as {@link SECRET_BINDING}. */
function signedPolicyFor(origin: TestOrigin, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return policyFor(origin, { sign_headers: { secret: SECRET_BINDING }, ...extra });
}

function vars(policy: Record<string, unknown>, bindings: Record<string, unknown> = {}): Env {
  return { POLICY: policy, ...bindings } as Env;
}

function signedVars(policy: Record<string, unknown>): Env {
  return vars(policy, { [SECRET_BINDING]: SECRET });
}

/** What the echo origin received; fails the test when the request did not reach it. */
async function echoOf(response: Response): Promise<Echo> {
  expect(response.status).toBe(200);
  expect(response.headers.get('x-origin')).toBe('echo');
  return (await response.json()) as Echo;
}

async function forwarded(request: Request, env: Env): Promise<Echo> {
  return echoOf(await callWorker(request, env));
}

function fromBase64url(text: string): string {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

interface Tamper {
  readonly method?: string;
  /** Replaces the echoed path (which holds the origin's id prefix and base path). */
  readonly path?: string;
  readonly query?: string;
  /** Header values to set over the echoed ones; `null` removes the header. */
  readonly headers?: Readonly<Record<string, string | null>>;
}

/** The request exactly as the origin saw it (method, path and query, headers), optionally changed. */
function atOrigin(echo: Echo, tamper: Tamper = {}): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(echo.headers)) {
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  for (const [name, value] of Object.entries(tamper.headers ?? {})) {
    if (value === null) headers.delete(name);
    else headers.set(name, value);
  }
  const path = tamper.path ?? echo.path;
  const query = tamper.query ?? echo.query;
  return new Request(`${inject('originUrl')}${path}${query}`, { method: tamper.method ?? echo.method, headers });
}

/** The `t`, `h` and `v1` members of an X-Auth-Signature value, as the gateway must write them. */
function signatureMembers(value: string | string[] | undefined): { t: number; h: string[]; v1: string } {
  expect(typeof value).toBe('string');
  const match = /^t=(\d+),h=([^=]*),v1=([A-Za-z0-9_-]{43})$/.exec(value as string);
  expect(match, `not a signature value: ${String(value)}`).not.toBeNull();
  const [, t = '', h = '', v1 = ''] = match as RegExpExecArray;
  return { t: Number(t), h: h === '' ? [] : h.split(','), v1 };
}

describe('identity headers mapped from verified claims', () => {
  it.each<[string, Record<string, unknown>, unknown, string | undefined]>([
    ['a string claim is sent as is', { email: 'alice@example.com' }, 'email', 'alice@example.com'],
    ['a number claim is sent as its JSON text', { level: 42 }, 'level', '42'],
    ['a boolean claim is sent as its JSON text', { admin: true }, 'admin', 'true'],
    ['a nested path walks into objects', { org: { id: 'org-7', name: 'Acme' } }, 'org.id', 'org-7'],
    [
      'a top-level claim whose name holds dots wins over the dotted walk',
      { 'https://example.com/tenant': 'top-level', 'https://example': { 'com/tenant': 'walked' } },
      'https://example.com/tenant',
      'top-level',
    ],
    [
      'a dotted name with no top-level claim of that name is walked',
      { 'https://example': { 'com/tenant': 'walked' } },
      'https://example.com/tenant',
      'walked',
    ],
    ['an array with format csv is joined by commas', { roles: ['a', 'b'] }, { claim: 'roles', format: 'csv' }, 'a,b'],
    [
      'an array with format json is sent as JSON',
      { roles: ['a', 'b'] },
      { claim: 'roles', format: 'json' },
      '["a","b"]',
    ],
    ['an array with no format is sent as JSON', { roles: ['a', 'b'] }, 'roles', '["a","b"]'],
    ['an object is sent as JSON', { plan: { tier: 'pro', seats: 3 } }, 'plan', '{"tier":"pro","seats":3}'],
    ['a missing claim sets no header', { other: 'x' }, 'email', undefined],
    ['a missing nested claim sets no header', { org: { name: 'Acme' } }, 'org.id', undefined],
    ['a non-ASCII string is left out', { email: 'zoë@example.com' }, 'email', undefined],
    ['a string with CR/LF is left out', { email: 'a@example.com\r\nx-admin: 1' }, 'email', undefined],
    ['a string with a lone LF is left out', { email: 'a@example.com\nx' }, 'email', undefined],
    ['a string with NUL is left out', { email: 'a@example.com\u0000x' }, 'email', undefined],
    ['a string with a leading space is left out', { email: ' a@example.com' }, 'email', undefined],
  ])('%s', async (_name, claims, source, expected) => {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims });
    const echo = await forwarded(bearer(token), vars(policyFor(origin, { headers: { 'X-Mapped': source } })));
    // The request was verified: the identity headers are there, mapped or not.
    expect(echo.headers['x-auth-subject']).toBe('user-1');
    expect(echo.headers['x-mapped']).toBe(expected);
  });

  it('a non-ASCII string is left out of its header but X-Auth-Claims still carries it', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims: { name: 'Zoë Ñúñez 😀' } });
    const echo = await forwarded(bearer(token), vars(policyFor(origin, { headers: { 'X-User-Name': 'name' } })));
    expect(echo.headers['x-user-name']).toBeUndefined();
    expect(JSON.parse(fromBase64url(echo.headers['x-auth-claims'] as string)).name).toBe('Zoë Ñúñez 😀');
  });

  it('a non-ASCII value in json format is escaped as \\uXXXX and parses back to the original', async () => {
    const origin = new TestOrigin();
    const profile = { display: 'Zoë 😀', tags: ['日本', 'plain'], del: '\u007f' };
    const token = await issuer.mint({ claims: { profile } });
    const policy = policyFor(origin, { headers: { 'X-Profile': { claim: 'profile', format: 'json' } } });
    const echo = await forwarded(bearer(token), vars(policy));
    const header = echo.headers['x-profile'] as string;
    expect(header).toMatch(/^[\x20-\x7e]+$/);
    expect(header).toContain('\\u00eb');
    expect(header).toContain('\\ud83d\\ude00');
    expect(header).toContain('\\u65e5\\u672c');
    expect(JSON.parse(header)).toEqual(profile);
  });

  it('a string with CR/LF in json format is escaped, so it is sent and parses back', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims: { note: 'line 1\r\nline 2' } });
    const policy = policyFor(origin, { headers: { 'X-Note': { claim: 'note', format: 'json' } } });
    const echo = await forwarded(bearer(token), vars(policy));
    expect(echo.headers['x-note']).toBe('"line 1\\r\\nline 2"');
    expect(JSON.parse(echo.headers['x-note'] as string)).toBe('line 1\r\nline 2');
  });

  describe('a client-sent copy of a mapped header is stripped', () => {
    function policyWithRoutes(origin: TestOrigin): Record<string, unknown> {
      return policyFor(origin, {
        routes: [
          { path: '/public/*', access: 'public' },
          { path: '/maybe/*', access: 'optional' },
          { path: '/*', access: 'required' },
        ],
        headers: { 'X-User-Email': 'email' },
      });
    }

    it('on a verified request, the claim replaces it', async () => {
      const origin = new TestOrigin();
      const token = await issuer.mint({ claims: { email: 'alice@example.com' } });
      const request = bearer(token, '/resource', { headers: { 'x-user-email': 'admin@evil.test', 'x-keep': 'yes' } });
      const echo = await forwarded(request, vars(policyWithRoutes(origin)));
      expect(echo.headers['x-user-email']).toBe('alice@example.com');
      expect(echo.headers['x-keep']).toBe('yes');
    });

    it('on a verified request whose token lacks the claim, none reaches the origin', async () => {
      const origin = new TestOrigin();
      const request = bearer(await issuer.mint(), '/resource', { headers: { 'x-user-email': 'admin@evil.test' } });
      const echo = await forwarded(request, vars(policyWithRoutes(origin)));
      expect(echo.headers['x-auth-subject']).toBe('user-1');
      expect(echo.headers['x-user-email']).toBeUndefined();
    });

    it('on a public route', async () => {
      const origin = new TestOrigin();
      const request = new Request(`${WORKER_URL}/public/page`, {
        headers: { 'x-user-email': 'admin@evil.test', 'x-keep': 'yes' },
      });
      const echo = await forwarded(request, vars(policyWithRoutes(origin)));
      expect(echo.headers['x-user-email']).toBeUndefined();
      expect(echo.headers['x-keep']).toBe('yes');
    });

    it('on an optional route without a token', async () => {
      const origin = new TestOrigin();
      const request = new Request(`${WORKER_URL}/maybe/page`, {
        headers: { 'x-user-email': 'admin@evil.test', 'x-keep': 'yes' },
      });
      const echo = await forwarded(request, vars(policyWithRoutes(origin)));
      expect(echo.headers['x-auth-subject']).toBeUndefined();
      expect(echo.headers['x-user-email']).toBeUndefined();
      expect(echo.headers['x-keep']).toBe('yes');
    });
  });
});

describe('forward_authorization', () => {
  it('false: the origin receives no Authorization header, and still the identity headers', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims: { email: 'alice@example.com' } });
    const policy = policyFor(origin, { forward_authorization: false, headers: { 'X-User-Email': 'email' } });
    const echo = await forwarded(bearer(token), vars(policy));
    expect(echo.headers.authorization).toBeUndefined();
    expect(echo.headers['x-auth-subject']).toBe('user-1');
    expect(echo.headers['x-auth-claims']).toBe(token.split('.')[1]);
    expect(echo.headers['x-user-email']).toBe('alice@example.com');
  });

  it('false: a public route does not pass a client Authorization header on either', async () => {
    const origin = new TestOrigin();
    const policy = policyFor(origin, { forward_authorization: false, routes: [{ path: '/*', access: 'public' }] });
    const request = new Request(`${WORKER_URL}/page`, { headers: { authorization: 'Basic dXNlcjpwdw==' } });
    const echo = await forwarded(request, vars(policy));
    expect(echo.headers.authorization).toBeUndefined();
  });

  it('by default the origin receives the client’s Authorization header as sent', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const echo = await forwarded(bearer(token), vars(policyFor(origin)));
    expect(echo.headers.authorization).toBe(`Bearer ${token}`);
  });

  it('true, stated: the origin receives the client’s Authorization header', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const echo = await forwarded(bearer(token), vars(policyFor(origin, { forward_authorization: true })));
    expect(echo.headers.authorization).toBe(`Bearer ${token}`);
  });
});

describe('per-route origin', () => {
  it('a route’s origin overrides the policy’s origin', async () => {
    const routeOrigin = new TestOrigin();
    const policyOrigin = new TestOrigin();
    const policy = policyFor(policyOrigin, {
      routes: [
        { path: '/a/*', access: 'required', origin: routeOrigin.url },
        { path: '/*', access: 'required' },
      ],
    });
    const token = await issuer.mint();

    const first = await forwarded(bearer(token, '/a/x?q=1'), vars(policy));
    expect(first.path).toBe(`/${routeOrigin.id}/a/x`);
    expect(first.query).toBe('?q=1');
    expect(await routeOrigin.hits()).toBe(1);
    expect(await policyOrigin.hits()).toBe(0);

    const second = await forwarded(bearer(token, '/b/y'), vars(policy));
    expect(second.path).toBe(`/${policyOrigin.id}/b/y`);
    expect(await routeOrigin.hits()).toBe(1);
    expect(await policyOrigin.hits()).toBe(1);

    await forwarded(bearer(token, '/a/z'), vars(policy));
    expect(await routeOrigin.hits()).toBe(2);
    expect(await policyOrigin.hits()).toBe(1);
  });
});

describe('signed identity (X-Auth-Signature)', () => {
  const MAPPINGS = { 'X-User-Email': 'email', 'X-Not-In-Token': 'absent', 'X-Org-Id': 'org.id' };
  const CLAIMS = { email: 'alice@example.com', org: { id: 'org-7' } };

  async function signedEcho(path = '/items/7?view=full&q=a%20b', init: RequestInit = {}): Promise<Echo> {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims: CLAIMS });
    return forwarded(bearer(token, path, init), signedVars(signedPolicyFor(origin, { headers: MAPPINGS })));
  }

  it('signs the identity headers that were set, in config order, as t=<seconds>,h=<names>,v1=<mac>', async () => {
    const before = Math.floor(Date.now() / 1000);
    const echo = await signedEcho();
    const after = Math.floor(Date.now() / 1000);
    const { t, h } = signatureMembers(echo.headers['x-auth-signature']);
    expect(h).toEqual(['x-auth-subject', 'x-auth-claims', 'x-user-email', 'x-org-id']);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(after);
    expect(echo.headers['x-user-email']).toBe('alice@example.com');
    expect(echo.headers['x-org-id']).toBe('org-7');
  });

  it('verifies at the origin over the path and query it received', async () => {
    const echo = await signedEcho();
    expect(echo.path).toMatch(/^\/o[0-9a-f-]+\/items\/7$/);
    expect(echo.query).toBe('?view=full&q=a%20b');
    expect(await verifyIdentitySignature(atOrigin(echo), SECRET)).toEqual({
      valid: true,
      timestamp: signatureMembers(echo.headers['x-auth-signature']).t,
      headers: ['x-auth-subject', 'x-auth-claims', 'x-user-email', 'x-org-id'],
    });
  });

  it('does not verify with another secret', async () => {
    const echo = await signedEcho();
    expect(await verifyIdentitySignature(atOrigin(echo), `${SECRET}-other`)).toEqual({
      valid: false,
      reason: 'mismatch',
    });
  });

  it('signs the method', async () => {
    const echo = await signedEcho('/items/7', { method: 'POST', body: 'x' });
    expect(echo.method).toBe('POST');
    expect((await verifyIdentitySignature(atOrigin(echo), SECRET)).valid).toBe(true);
    expect(await verifyIdentitySignature(atOrigin(echo, { method: 'PUT' }), SECRET)).toEqual({
      valid: false,
      reason: 'mismatch',
    });
  });

  it.each<[string, (echo: Echo) => Tamper]>([
    ['the path', (echo) => ({ path: echo.path.replace('/items/7', '/items/8') })],
    ['the path without its origin prefix', () => ({ path: '/items/7' })],
    ['the query', () => ({ query: '?view=full&q=a%20c' })],
    ['the query dropped', () => ({ query: '' })],
    ['a mapped header value', () => ({ headers: { 'x-user-email': 'admin@example.com' } })],
    ['a mapped header removed', () => ({ headers: { 'x-org-id': null } })],
    ['the subject', () => ({ headers: { 'x-auth-subject': 'admin' } })],
    ['the claims', (echo) => ({ headers: { 'x-auth-claims': `${echo.headers['x-auth-claims']}A` } })],
    [
      't, one second earlier',
      (echo) => {
        const value = echo.headers['x-auth-signature'] as string;
        const { t } = signatureMembers(value);
        return { headers: { 'x-auth-signature': value.replace(/^t=\d+/, `t=${t - 1}`) } };
      },
    ],
  ])('fails once %s is changed', async (_name, tamper) => {
    const echo = await signedEcho();
    expect((await verifyIdentitySignature(atOrigin(echo), SECRET)).valid).toBe(true);
    const result = await verifyIdentitySignature(atOrigin(echo, tamper(echo)), SECRET);
    expect(result.valid).toBe(false);
  });

  it('still verifies when a header outside h is changed', async () => {
    const echo = await signedEcho();
    const result = await verifyIdentitySignature(atOrigin(echo, { headers: { 'user-agent': 'changed/1.0' } }), SECRET);
    expect(result.valid).toBe(true);
  });

  it('leaves x-auth-subject out of h when the subject cannot be a header value', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims: { ...CLAIMS, sub: 'zoë' } });
    const echo = await forwarded(bearer(token), signedVars(signedPolicyFor(origin, { headers: MAPPINGS })));
    expect(echo.headers['x-auth-subject']).toBeUndefined();
    expect(signatureMembers(echo.headers['x-auth-signature']).h).toEqual(['x-auth-claims', 'x-user-email', 'x-org-id']);
    expect((await verifyIdentitySignature(atOrigin(echo), SECRET)).valid).toBe(true);
  });

  it('signs a policy origin’s base path', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims: CLAIMS });
    const policy = signedPolicyFor(origin, { origin: `${origin.url}/base`, headers: MAPPINGS });
    const echo = await forwarded(bearer(token, '/items?x=1'), signedVars(policy));
    expect(echo.path).toBe(`/${origin.id}/base/items`);
    expect((await verifyIdentitySignature(atOrigin(echo), SECRET)).valid).toBe(true);
    const withoutBase = await verifyIdentitySignature(atOrigin(echo, { path: `/${origin.id}/items` }), SECRET);
    expect(withoutBase).toEqual({ valid: false, reason: 'mismatch' });
  });

  it('signs a route origin’s base path', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims: CLAIMS });
    const policy = signedPolicyFor(origin, {
      routes: [{ path: '/v2/*', access: 'required', origin: `${origin.url}/route-base/` }],
      headers: MAPPINGS,
    });
    const echo = await forwarded(bearer(token, '/v2/items'), signedVars(policy));
    expect(echo.path).toBe(`/${origin.id}/route-base/v2/items`);
    expect((await verifyIdentitySignature(atOrigin(echo), SECRET)).valid).toBe(true);
  });

  // Either fix is right: refuse the mapping when the policy is parsed, or sign only what reaches the origin.
  it.each([
    ['Content-Length', 'GET'],
    ['Content-Length', 'POST'],
    ['CF-Connecting-IP', 'GET'],
  ])('a mapping to %s, which the runtime rewrites, is refused or still verifies (%s)', async (header, method) => {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims: { ...CLAIMS, mapped: '5' } });
    const init: RequestInit = method === 'POST' ? { method, body: 'hello world' } : { method };
    const response = await callWorker(
      bearer(token, '/items', init),
      signedVars(signedPolicyFor(origin, { headers: { [header]: 'mapped' } })),
    );
    if (response.status === 500) {
      expect(((await response.json()) as { code: string }).code).toBe('config_invalid');
      expect(await origin.hits()).toBe(0);
      return;
    }
    const echo = await echoOf(response);
    expect(await verifyIdentitySignature(atOrigin(echo), SECRET)).toMatchObject({ valid: true });
  });

  describe('only verified requests are signed', () => {
    function policyWithRoutes(origin: TestOrigin): Record<string, unknown> {
      return signedPolicyFor(origin, {
        routes: [
          { path: '/public/*', access: 'public' },
          { path: '/maybe/*', access: 'optional' },
          { path: '/*', access: 'required' },
        ],
        headers: MAPPINGS,
      });
    }
    const FORGED = `t=${Math.floor(Date.now() / 1000)},h=x-auth-subject,v1=${'A'.repeat(43)}`;

    it('a public route gets no x-auth-signature, and a client-sent one is stripped', async () => {
      const origin = new TestOrigin();
      const request = new Request(`${WORKER_URL}/public/page`, { headers: { 'x-auth-signature': FORGED } });
      const echo = await forwarded(request, signedVars(policyWithRoutes(origin)));
      expect(echo.headers['x-auth-signature']).toBeUndefined();
    });

    it('an optional route without a token gets no x-auth-signature, and a client-sent one is stripped', async () => {
      const origin = new TestOrigin();
      const request = new Request(`${WORKER_URL}/maybe/page`, { headers: { 'x-auth-signature': FORGED } });
      const echo = await forwarded(request, signedVars(policyWithRoutes(origin)));
      expect(echo.headers['x-auth-signature']).toBeUndefined();
    });

    it('an optional route with a token is signed', async () => {
      const origin = new TestOrigin();
      const echo = await forwarded(
        bearer(await issuer.mint({ claims: CLAIMS }), '/maybe/page'),
        signedVars(policyWithRoutes(origin)),
      );
      expect((await verifyIdentitySignature(atOrigin(echo), SECRET)).valid).toBe(true);
    });

    it('a client-sent x-auth-signature on a verified request is replaced by the gateway’s', async () => {
      const origin = new TestOrigin();
      const request = bearer(await issuer.mint({ claims: CLAIMS }), '/resource', {
        headers: { 'X-Auth-Signature': FORGED },
      });
      const echo = await forwarded(request, signedVars(policyWithRoutes(origin)));
      expect(echo.headers['x-auth-signature']).not.toBe(FORGED);
      expect(echo.headers['x-auth-signature']).not.toContain(FORGED);
      expect((await verifyIdentitySignature(atOrigin(echo), SECRET)).valid).toBe(true);
    });
  });

  describe('a missing or too-short signing secret refuses the request', () => {
    it.each<[string, Record<string, unknown>]>([
      ['no binding', {}],
      ['an empty secret', { [SECRET_BINDING]: '' }],
      ['a secret of 31 characters', { [SECRET_BINDING]: 's'.repeat(31) }],
      ['a binding that is not a string', { [SECRET_BINDING]: { length: 64 } }],
    ])('%s: 500 config_invalid, and the origin is not reached', async (_name, bindings) => {
      const origin = new TestOrigin();
      const response = await callWorker(
        bearer(await issuer.mint({ claims: CLAIMS })),
        vars(signedPolicyFor(origin), bindings),
      );
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      const body = (await response.json()) as { code: string; status: number; detail?: string };
      expect(body.code).toBe('config_invalid');
      expect(body.status).toBe(500);
      expect(body.detail).toContain(SECRET_BINDING);
      const secret = bindings[SECRET_BINDING];
      if (typeof secret === 'string' && secret !== '') expect(JSON.stringify(body)).not.toContain(secret);
      expect(await origin.hits()).toBe(0);
    });

    it('a secret of exactly 32 characters is enough', async () => {
      const origin = new TestOrigin();
      const secret = 'k'.repeat(32);
      const echo = await forwarded(
        bearer(await issuer.mint({ claims: CLAIMS })),
        vars(signedPolicyFor(origin), { [SECRET_BINDING]: secret }),
      );
      expect((await verifyIdentitySignature(atOrigin(echo), secret)).valid).toBe(true);
      expect(await origin.hits()).toBe(1);
    });
  });

  it('without sign_headers no x-auth-signature reaches the origin, even one the client sent', async () => {
    const origin = new TestOrigin();
    const forged = `t=${Math.floor(Date.now() / 1000)},h=,v1=${'A'.repeat(43)}`;
    const request = bearer(await issuer.mint({ claims: CLAIMS }), '/resource', {
      headers: { 'x-auth-signature': forged },
    });
    const echo = await forwarded(request, vars(policyFor(origin, { headers: MAPPINGS }), { [SECRET_BINDING]: SECRET }));
    expect(echo.headers['x-auth-subject']).toBe('user-1');
    expect(echo.headers['x-auth-signature']).toBeUndefined();
  });
});
