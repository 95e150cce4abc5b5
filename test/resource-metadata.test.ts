import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../src/env.ts';
import { AUDIENCE, TestIssuer } from './helpers/issuer.ts';
import { type Echo, TestOrigin } from './helpers/origin.ts';
import { bearer, callWorker, parseChallenge, varsFor, WORKER_URL } from './helpers/worker.ts';

/** RFC 9728 §3.1: the well-known path for a resource identifier without a path. */
const METADATA_PATH = '/.well-known/oauth-protected-resource';
const METADATA_URL = `${WORKER_URL}${METADATA_PATH}`;

let corp: TestIssuer;
let partner: TestIssuer;
beforeAll(async () => {
  [corp, partner] = await Promise.all([TestIssuer.create(), TestIssuer.create()]);
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

type Route = Record<string, unknown>;

/** Two issuers, every route required unless the test says otherwise. */
function policyVars(origin: TestOrigin, extra: Record<string, unknown> = {}, routes?: Route[]): Env {
  return {
    POLICY: {
      issuers: {
        corp: { issuer: corp.url, audiences: [AUDIENCE], jwks_uri: corp.jwksUri },
        partner: { issuer: partner.url, audiences: [AUDIENCE], jwks_uri: partner.jwksUri },
      },
      routes: routes ?? [{ path: '/*', access: 'required', issuers: ['corp', 'partner'] }],
      origin: origin.url,
      ...extra,
    },
  };
}

async function metadataOf(response: Response): Promise<unknown> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('cache-control')).toBe('max-age=3600');
  expect(response.headers.get('www-authenticate')).toBeNull();
  return response.json();
}

describe('the protected-resource metadata of a resource without a path', () => {
  const resource = { resource: 'https://api.example.test', scopes_supported: ['read', 'write'] };

  it('answers GET with the RFC 9728 document, listing every issuer, without a token and without the origin', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(new Request(METADATA_URL), policyVars(origin, { resource }));
    expect(await metadataOf(response)).toStrictEqual({
      resource: 'https://api.example.test',
      authorization_servers: [corp.url, partner.url],
      scopes_supported: ['read', 'write'],
      bearer_methods_supported: ['header'],
    });
    expect(await origin.hits()).toBe(0);
  });

  it.each([
    ['a doubled slash', `${WORKER_URL}//.well-known/oauth-protected-resource`],
    ['an encoded dot', `${WORKER_URL}/%2Ewell-known/oauth-protected-resource`],
  ])('answers another spelling of its path (%s) too, never passing it to the origin', async (_name, url) => {
    // With a token, so that the catch-all route would forward it were it not the gateway's own.
    const origin = new TestOrigin();
    const request = new Request(url, { headers: { authorization: `Bearer ${await corp.mint()}` } });
    const response = await callWorker(request, policyVars(origin, { resource }));
    expect(await metadataOf(response)).toMatchObject({ resource: 'https://api.example.test' });
    expect(await origin.hits()).toBe(0);
  });

  it('leaves scopes_supported out when it is not configured, and publishes the named authorization servers', async () => {
    const origin = new TestOrigin();
    const vars = policyVars(origin, {
      resource: { resource: 'https://api.example.test', authorization_servers: ['https://as.example/'] },
    });
    expect(await metadataOf(await callWorker(new Request(METADATA_URL), vars))).toStrictEqual({
      resource: 'https://api.example.test',
      authorization_servers: ['https://as.example/'],
      bearer_methods_supported: ['header'],
    });
  });

  it('is served on any host the Worker answers, and with a query', async () => {
    const origin = new TestOrigin();
    const vars = policyVars(origin, { resource });
    for (const url of [`https://other-host.example${METADATA_PATH}`, `${METADATA_URL}?refresh=1`]) {
      const body = (await metadataOf(await callWorker(new Request(url), vars))) as { resource: string };
      expect(body.resource).toBe('https://api.example.test');
    }
    expect(await origin.hits()).toBe(0);
  });

  it('answers GET with the document even with a token that would be refused', async () => {
    const origin = new TestOrigin();
    const request = new Request(METADATA_URL, { headers: { authorization: 'Bearer not-a-jwt' } });
    const body = (await metadataOf(await callWorker(request, policyVars(origin, { resource })))) as {
      resource: string;
    };
    expect(body.resource).toBe('https://api.example.test');
    expect(await origin.hits()).toBe(0);
  });

  it('answers HEAD with 200 and no body', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(new Request(METADATA_URL, { method: 'HEAD' }), policyVars(origin, { resource }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('max-age=3600');
    expect(await response.text()).toBe('');
    expect(await origin.hits()).toBe(0);
  });

  it.each(['POST', 'PUT', 'DELETE'])('answers %s with 405 and Allow: GET, HEAD, forwarding nothing', async (method) => {
    const origin = new TestOrigin();
    const request = bearer(await corp.mint(), METADATA_PATH, { method, body: '{}' });
    const response = await callWorker(request, policyVars(origin, { resource }));
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(((await response.json()) as { code: string }).code).toBe('method_not_allowed');
    expect(await origin.hits()).toBe(0);
  });

  it('is not served when no resource is configured: the path is routed like any other', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(new Request(METADATA_URL), policyVars(origin));
    expect(response.status).toBe(401);
    expect(((await response.json()) as { code: string }).code).toBe('missing_token');
  });
});

describe('the protected-resource metadata of a resource with a path', () => {
  const resource = { resource: 'https://api.example.test/v1' };
  const v1Routes: Route[] = [{ path: '/v1/*', access: 'required', issuers: ['corp', 'partner'] }];

  it('is served at the well-known path followed by the resource path', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(new Request(`${METADATA_URL}/v1`), policyVars(origin, { resource }, v1Routes));
    expect(await metadataOf(response)).toStrictEqual({
      resource: 'https://api.example.test/v1',
      authorization_servers: [corp.url, partner.url],
      bearer_methods_supported: ['header'],
    });
    expect(await origin.hits()).toBe(0);
  });

  it('leaves the bare well-known path to the routes: 404 no_route when none matches', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(new Request(METADATA_URL), policyVars(origin, { resource }, v1Routes));
    expect(response.status).toBe(404);
    expect(((await response.json()) as { code: string }).code).toBe('no_route');
    expect(await origin.hits()).toBe(0);
  });

  it('forwards the bare well-known path when a route covers it, but still answers its own path itself', async () => {
    const origin = new TestOrigin();
    const routes: Route[] = [{ path: '/.well-known/*', access: 'public' }, ...v1Routes];
    const vars = policyVars(origin, { resource }, routes);
    const forwarded = await callWorker(new Request(METADATA_URL), vars);
    expect(forwarded.status).toBe(200);
    expect(forwarded.headers.get('x-origin')).toBe('echo');
    expect(((await forwarded.json()) as Echo).path).toBe(`/${origin.id}${METADATA_PATH}`);
    expect(await origin.hits()).toBe(1);

    const own = (await metadataOf(await callWorker(new Request(`${METADATA_URL}/v1`), vars))) as { resource: string };
    expect(own.resource).toBe('https://api.example.test/v1');
    expect(await origin.hits()).toBe(1);
  });

  it('names the path-specific metadata URL in challenges', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(
      new Request(`${WORKER_URL}/v1/items`),
      policyVars(origin, { resource }, v1Routes),
    );
    expect(response.status).toBe(401);
    expect(parseChallenge(response.headers.get('www-authenticate')).resource_metadata).toBe(
      `${WORKER_URL}/.well-known/oauth-protected-resource/v1`,
    );
  });
});

interface Refusal {
  readonly name: string;
  readonly status: number;
  readonly code: string;
  readonly request: () => Promise<Request>;
}

const REFUSALS: readonly Refusal[] = [
  { name: 'no token', status: 401, code: 'missing_token', request: async () => new Request(`${WORKER_URL}/resource`) },
  {
    name: 'an expired token',
    status: 401,
    code: 'token_expired',
    request: async () => bearer(await corp.mint({ at: Math.floor(Date.now() / 1000) - 3_600 })),
  },
  {
    name: 'a token without the route’s scope',
    status: 403,
    code: 'insufficient_scope',
    request: async () => bearer(await corp.mint(), '/admin/users'),
  },
  {
    name: 'a token failing the route’s claim rule',
    status: 403,
    code: 'claim_mismatch',
    request: async () => bearer(await corp.mint({ claims: { tenant: 'other' } }), '/tenant/data'),
  },
  {
    name: 'a malformed Authorization header',
    status: 400,
    code: 'malformed_authorization',
    request: async () => new Request(`${WORKER_URL}/resource`, { headers: { authorization: 'Bearer' } }),
  },
];

const challengeRoutes: Route[] = [
  { path: '/admin/*', access: 'required', issuers: ['corp'], scopes: { all: ['admin'] } },
  { path: '/tenant/*', access: 'required', issuers: ['corp'], claims: [{ claim: 'tenant', equals: 'acme' }] },
  { path: '/*', access: 'required', issuers: ['corp', 'partner'] },
];

describe('resource_metadata in the challenge', () => {
  it.each(REFUSALS)(
    'is named on $status $code ($name) when a resource is published, and only on 401 and 403',
    async ({ status, code, request }) => {
      const origin = new TestOrigin();
      const vars = policyVars(origin, { resource: { resource: 'https://api.example.test' } }, challengeRoutes);
      const response = await callWorker(await request(), vars);
      expect(response.status).toBe(status);
      expect(((await response.json()) as { code: string }).code).toBe(code);
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      expect(challenge.realm).toBe('api');
      expect(challenge.resource_metadata).toBe(status === 400 ? undefined : METADATA_URL);
      if (code === 'insufficient_scope') expect(challenge.scope).toBe('admin');
      expect(await origin.hits()).toBe(0);
    },
  );

  it.each(REFUSALS)(
    'is absent on $status $code ($name) when no resource is configured',
    async ({ status, code, request }) => {
      const origin = new TestOrigin();
      const response = await callWorker(await request(), policyVars(origin, {}, challengeRoutes));
      expect(response.status).toBe(status);
      expect(((await response.json()) as { code: string }).code).toBe(code);
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      expect(challenge.realm).toBe('api');
      expect(Object.keys(challenge)).not.toContain('resource_metadata');
      expect(await origin.hits()).toBe(0);
    },
  );

  it('lets a valid token through without a challenge', async () => {
    const origin = new TestOrigin();
    const vars = policyVars(origin, { resource: { resource: 'https://api.example.test' } }, challengeRoutes);
    const response = await callWorker(bearer(await partner.mint()), vars);
    expect(response.status).toBe(200);
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(await origin.hits()).toBe(1);
  });
});

describe('the flat variable RESOURCE', () => {
  it('publishes the document with ISSUER as the authorization server and REQUIRED_SCOPES as the scopes', async () => {
    const origin = new TestOrigin();
    const vars = varsFor(corp, origin, { RESOURCE: 'https://api.example.test', REQUIRED_SCOPES: 'read write' });
    expect(await metadataOf(await callWorker(new Request(METADATA_URL), vars))).toStrictEqual({
      resource: 'https://api.example.test',
      authorization_servers: [corp.url],
      scopes_supported: ['read', 'write'],
      bearer_methods_supported: ['header'],
    });
    expect(await origin.hits()).toBe(0);
  });

  it('leaves scopes_supported out without REQUIRED_SCOPES, and names the metadata in a 401', async () => {
    const origin = new TestOrigin();
    const vars = varsFor(corp, origin, { RESOURCE: 'https://api.example.test' });
    expect(await metadataOf(await callWorker(new Request(METADATA_URL), vars))).toStrictEqual({
      resource: 'https://api.example.test',
      authorization_servers: [corp.url],
      bearer_methods_supported: ['header'],
    });
    const refused = await callWorker(new Request(`${WORKER_URL}/resource`), vars);
    expect(refused.status).toBe(401);
    expect(parseChallenge(refused.headers.get('www-authenticate')).resource_metadata).toBe(METADATA_URL);
    expect(await origin.hits()).toBe(0);
  });
});

describe('an MCP server', () => {
  const MCP_RESOURCE = 'https://mcp.example.test/mcp';
  const MCP_METADATA_URL = 'https://mcp.example.test/.well-known/oauth-protected-resource/mcp';

  function mcpVars(origin: TestOrigin): Env {
    return {
      POLICY: {
        issuers: { auth: { issuer: corp.url, audiences: [MCP_RESOURCE], jwks_uri: corp.jwksUri } },
        routes: [{ path: '/mcp', access: 'required' }],
        origin: origin.url,
        resource: { resource: MCP_RESOURCE },
      },
    };
  }

  function mcpCall(token: string): Request {
    return new Request(MCP_RESOURCE, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
  }

  it('publishes its metadata at the path-specific well-known URL', async () => {
    const origin = new TestOrigin();
    expect(await metadataOf(await callWorker(new Request(MCP_METADATA_URL), mcpVars(origin)))).toStrictEqual({
      resource: MCP_RESOURCE,
      authorization_servers: [corp.url],
      bearer_methods_supported: ['header'],
    });
  });

  it('passes a token whose audience is the resource', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(mcpCall(await corp.mint({ claims: { aud: MCP_RESOURCE } })), mcpVars(origin));
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Echo;
    expect(echo.method).toBe('POST');
    expect(echo.path).toBe(`/${origin.id}/mcp`);
    expect(await origin.hits()).toBe(1);
  });

  it('refuses a token for another audience with 401 naming the metadata', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(mcpCall(await corp.mint({ claims: { aud: AUDIENCE } })), mcpVars(origin));
    expect(response.status).toBe(401);
    expect(((await response.json()) as { code: string }).code).toBe('wrong_audience');
    const challenge = parseChallenge(response.headers.get('www-authenticate'));
    expect(challenge.error).toBe('invalid_token');
    expect(challenge.resource_metadata).toBe(MCP_METADATA_URL);
    expect(await origin.hits()).toBe(0);
  });
});
