import { parse } from 'smol-toml';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import mcpServer from '../../examples/policies/mcp-server.toml?raw';
import multiTenantSaas from '../../examples/policies/multi-tenant-saas.toml?raw';
import publicAndProtected from '../../examples/policies/public-and-protected.toml?raw';
import type { Env } from '../../src/env.ts';
import { TestIssuer } from '../helpers/issuer.ts';
import { type Echo, TestOrigin } from '../helpers/origin.ts';
import { policyVars } from '../helpers/policy.ts';
import { bearer, callWorker, parseChallenge } from '../helpers/worker.ts';

/**
 * The worked examples of docs/guides/policy.md (examples/policies/*.toml, the same text), each
 * parsed as written and run through the Worker: only the issuers' URLs and the origins are
 * pointed at the test's own servers. Each case is a bullet of the guide.
 */

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

type Policy = Record<string, unknown> & {
  issuers: Record<string, Record<string, unknown>>;
  routes: Record<string, unknown>[];
};

/** The example's POLICY, its issuers served by test issuers and its origins by test origins (by the URL written). */
function policyOf(toml: string, issuers: Record<string, TestIssuer>, origins: Record<string, TestOrigin>): Policy {
  const policy = structuredClone((parse(toml) as { vars: { POLICY: Policy } }).vars.POLICY);
  for (const [id, issuer] of Object.entries(issuers)) {
    Object.assign(policy.issuers[id] as object, { issuer: issuer.url, jwks_uri: issuer.jwksUri });
  }
  const pointed = (url: unknown) => {
    const { origin, pathname } = new URL(String(url));
    const server = origins[origin];
    if (!server) throw new Error(`no test origin for ${origin}`);
    return `${server.url}${pathname === '/' ? '' : pathname}`;
  };
  policy.origin = pointed(policy.origin);
  for (const route of policy.routes) if (route.origin !== undefined) route.origin = pointed(route.origin);
  return policy;
}

async function codeOf(response: Response): Promise<string> {
  return ((await response.json()) as { code: string }).code;
}

function request(path: string, init: RequestInit & { token?: string; host?: string } = {}): Request {
  const { token, host = 'https://api.example.com', ...rest } = init;
  if (token !== undefined) return bearer(token, path, rest);
  return new Request(`${host}${path}`, rest);
}

describe('examples/policies/multi-tenant-saas.toml', () => {
  const SIGNING_KEY = 'an-identity-signing-key-of-at-least-32-characters';
  async function setUp() {
    const customers = await TestIssuer.create();
    const staff = await TestIssuer.create(['ES256']);
    const app = new TestOrigin();
    const admin = new TestOrigin();
    const policy = policyOf(
      multiTenantSaas,
      { customers, staff },
      { 'https://app.internal.example.com': app, 'https://admin.internal.example.com': admin },
    );
    const vars = policyVars(policy, { IDENTITY_SIGNING_KEY: SIGNING_KEY } as Partial<Env>);
    const call = (path: string, token?: string) =>
      callWorker(request(path, token === undefined ? {} : { token }), vars);
    const customer = (claims: Record<string, unknown> = {}) =>
      customers.mint({
        claims: {
          aud: 'https://api.example.com',
          scope: 'read:data',
          'https://example.com/tenant_id': 'acme',
          'https://example.com/email': 'ann@acme.example',
          'https://example.com/roles': ['viewer', 'billing'],
          ...claims,
        },
      });
    const employee = (claims: Record<string, unknown> = {}) =>
      staff.mint({ claims: { aud: 'api://example', scope: undefined, ...claims } });
    return { customers, staff, admin, call, customer, employee };
  }

  it('a customer token on /api/orders reaches the origin with the mapped headers, signed', async () => {
    const { call, customer } = await setUp();
    const response = await call('/api/orders', await customer());
    expect(response.status).toBe(200);
    const { headers } = (await response.json()) as Echo;
    expect(headers['x-tenant-id']).toBe('acme');
    expect(headers['x-user-email']).toBe('ann@acme.example');
    expect(headers['x-roles']).toBe('viewer,billing');
    const signed = String(headers['x-auth-signature']);
    for (const name of ['x-tenant-id', 'x-user-email', 'x-roles']) expect(signed).toContain(name);
  });

  it('a customer token without the tenant claim is 401 invalid_claims', async () => {
    const { call, customer } = await setUp();
    const response = await call('/api/orders', await customer({ 'https://example.com/tenant_id': undefined }));
    expect([response.status, await codeOf(response)]).toEqual([401, 'invalid_claims']);
  });

  it('a customer token on /admin/users is 401 wrong_issuer, and the staff issuer’s keys are not fetched', async () => {
    const { call, customer, staff } = await setUp();
    const response = await call('/admin/users', await customer());
    expect([response.status, await codeOf(response)]).toEqual([401, 'wrong_issuer']);
    expect((await staff.stats()).jwksFetches).toBe(0);
  });

  it('a staff token on /admin/users needs both admin scopes, then the support-admins group, then reaches the admin origin', async () => {
    const { call, employee, admin } = await setUp();
    const oneScope = await call('/admin/users', await employee({ scp: ['admin:read'], groups: ['support-admins'] }));
    expect([oneScope.status, await codeOf(oneScope)]).toEqual([403, 'insufficient_scope']);
    expect(parseChallenge(oneScope.headers.get('www-authenticate')).scope).toBe('admin:read admin:write');
    const notInGroup = await call('/admin/users', await employee({ scp: ['admin:read', 'admin:write'], groups: [] }));
    expect([notInGroup.status, await codeOf(notInGroup)]).toEqual([403, 'claim_mismatch']);
    const allowed = await call(
      '/admin/users',
      await employee({ scp: ['admin:read', 'admin:write'], groups: ['support-admins'] }),
    );
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as Echo).path).toBe(`${new URL(admin.url).pathname}/admin/users`);
  });

  it('a staff token on /api/* passes with admin:read and carries no mapped header', async () => {
    const { call, employee } = await setUp();
    const response = await call('/api/orders', await employee({ scp: ['admin:read'] }));
    expect(response.status).toBe(200);
    const { headers } = (await response.json()) as Echo;
    expect(headers['x-tenant-id']).toBeUndefined();
    expect(String(headers['x-auth-signature'])).toContain('h=x-auth-subject,x-auth-claims');
  });

  it('any other path is 404 no_route', async () => {
    const { call, customer } = await setUp();
    const response = await call('/billing', await customer());
    expect([response.status, await codeOf(response)]).toEqual([404, 'no_route']);
  });
});

describe('examples/policies/public-and-protected.toml', () => {
  async function setUp() {
    const main = await TestIssuer.create();
    const api = new TestOrigin();
    const assets = new TestOrigin();
    const policy = policyOf(
      publicAndProtected,
      { main },
      { 'https://api.internal.example.com': api, 'https://assets.example.net': assets },
    );
    const vars = policyVars(policy);
    const call = (path: string, init: RequestInit & { token?: string } = {}) => callWorker(request(path, init), vars);
    const mint = (claims: Record<string, unknown> = {}) =>
      main.mint({ claims: { aud: 'https://api.example.com', ...claims } });
    return { api, assets, call, mint };
  }

  it('GET /health is forwarded without a token; POST /health matches no route', async () => {
    const { call } = await setUp();
    expect((await call('/health')).status).toBe(200);
    const post = await call('/health', { method: 'POST' });
    expect([post.status, await codeOf(post)]).toEqual([404, 'no_route']);
  });

  it('GET /static/app.js goes to the assets origin, under its /site path, unverified', async () => {
    const { call, assets } = await setUp();
    const response = await call('/static/app.js');
    expect(response.status).toBe(200);
    expect(((await response.json()) as Echo).path).toBe(`${new URL(assets.url).pathname}/site/static/app.js`);
  });

  it('/docs/* is optional: anonymous without a token, identified with one, refused with an expired one', async () => {
    const { call, mint } = await setUp();
    const anonymous = await call('/docs/intro');
    expect(((await anonymous.json()) as Echo).headers['x-auth-subject']).toBeUndefined();
    const identified = await call('/docs/intro', { token: await mint({ sub: 'dana' }) });
    expect(((await identified.json()) as Echo).headers['x-auth-subject']).toBe('dana');
    const at = Math.floor(Date.now() / 1000) - 3_600;
    const expired = await call('/docs/intro', { token: await mint({ iat: at, exp: at + 300 }) });
    expect([expired.status, await codeOf(expired)]).toEqual([401, 'token_expired']);
  });

  it('GET /api/* needs orders:read or orders:admin; POST falls through to the route that needs orders:write', async () => {
    const { call, mint } = await setUp();
    const writer = await mint({ scope: 'orders:write' });
    const read = await call('/api/orders', { token: writer });
    expect([read.status, await codeOf(read)]).toEqual([403, 'insufficient_scope']);
    expect(parseChallenge(read.headers.get('www-authenticate')).scope).toBe('orders:read orders:admin');
    expect((await call('/api/orders', { token: writer, method: 'POST' })).status).toBe(200);
  });

  it('a preflight announcing POST is routed to the last route and forwarded unverified', async () => {
    const { call, api } = await setUp();
    const response = await call('/api/orders', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(200);
    expect(await api.hits()).toBe(1);
  });

  it('/api itself and an encoded slash match no route; /api/%2e%2e/health is /health once parsed', async () => {
    const { call, mint } = await setUp();
    const token = await mint({ scope: 'orders:admin' });
    for (const path of ['/api', '/api/orders%2F42']) {
      const response = await call(path, { token });
      expect([path, response.status, await codeOf(response)]).toEqual([path, 404, 'no_route']);
    }
    const dotted = await call('/api/%2e%2e/health');
    expect(dotted.status).toBe(200);
    expect(((await dotted.json()) as Echo).path.endsWith('/health')).toBe(true);
  });
});

describe('examples/policies/mcp-server.toml', () => {
  const MCP = 'https://mcp.example.com';
  const METADATA = `${MCP}/.well-known/oauth-protected-resource/mcp`;
  async function setUp() {
    const auth = await TestIssuer.create();
    const policy = policyOf(mcpServer, { auth }, { 'https://mcp.internal.example.com': new TestOrigin() });
    const vars = policyVars(policy);
    const call = (init: RequestInit & { token?: string } = {}) =>
      callWorker(request('/mcp', { method: 'POST', host: MCP, ...init }), vars);
    const mint = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = { typ: 'at+jwt' }) =>
      auth.mint({ claims: { aud: `${MCP}/mcp`, scope: 'mcp:tools', ...claims }, header });
    return { auth, vars, call, mint };
  }

  it('publishes its metadata, naming the authorization server', async () => {
    const { auth, vars } = await setUp();
    const response = await callWorker(new Request(METADATA), vars);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ resource: `${MCP}/mcp`, authorization_servers: [auth.url] });
  });

  it('a first POST /mcp without a token gets the challenge that points at the metadata', async () => {
    const { call } = await setUp();
    const response = await call();
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="mcp", resource_metadata="${METADATA}"`);
  });

  it('refuses another resource’s token, a JWT-typed one and one without mcp:tools, each challenge naming the metadata', async () => {
    const { call, mint } = await setUp();
    const cases = [
      [await mint({ aud: 'https://other.example.com/' }), 401, 'wrong_audience'],
      [await mint({}, { typ: 'JWT' }), 401, 'wrong_token_type'],
      [await mint({ scope: 'mcp:resources' }), 403, 'insufficient_scope'],
    ] as const;
    for (const [token, status, code] of cases) {
      const response = await call({ token });
      expect([response.status, await codeOf(response)]).toEqual([status, code]);
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      expect(challenge.resource_metadata).toBe(METADATA);
      if (code === 'insufficient_scope') expect(challenge.scope).toBe('mcp:tools');
    }
    expect((await call({ token: await mint() })).status).toBe(200);
  });
});
