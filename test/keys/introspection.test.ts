import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { DEV_INTROSPECTION_CLIENT } from '../../scripts/dev-introspection-client.ts';
import { parseConfig } from '../../src/config.ts';
import {
  INTROSPECTION_MAX_IN_FLIGHT,
  INTROSPECTION_TIMEOUT_MS,
  INTROSPECTION_UNAVAILABLE_RETRY_AFTER_SECONDS,
} from '../../src/constants.ts';
import type { Env } from '../../src/env.ts';
import { createIntrospector } from '../../src/keys/introspection/introspector.ts';
import { newDecision } from '../../src/observe/decision.ts';
import { createApp } from '../../src/worker/app.ts';
import { manualClock } from '../helpers/clock.ts';
import { AUDIENCE, TestIssuer } from '../helpers/issuer.ts';
import { type Echo, TestOrigin } from '../helpers/origin.ts';
import { policyIssuer, policyVars } from '../helpers/policy.ts';
import { bearer, callWorker, envWith, WORKER_URL } from '../helpers/worker.ts';

const SECRET_NAME = 'INTROSPECTION_SECRET';

let log: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  log = vi.spyOn(console, 'log').mockImplementation(() => {});
});

/** An opaque token, as an authorization server hands one out: random, not a JOSE object. */
function opaque(): string {
  return `at_${crypto.randomUUID().replaceAll('-', '')}${crypto.randomUUID().replaceAll('-', '')}`;
}

function introspecting(
  issuer: TestIssuer,
  origin: TestOrigin,
  introspection: Record<string, unknown> = {},
  route: Record<string, unknown> = {},
  secrets: Record<string, string> = { [SECRET_NAME]: DEV_INTROSPECTION_CLIENT.secret },
  issuerPolicy: Record<string, unknown> = {},
): Env {
  return policyVars(
    {
      issuers: {
        corp: policyIssuer(issuer, {
          introspection: {
            endpoint: issuer.introspectionEndpoint,
            client_id: DEV_INTROSPECTION_CLIENT.id,
            client_secret: SECRET_NAME,
            ...introspection,
          },
          ...issuerPolicy,
        }),
      },
      routes: [{ path: '/*', access: 'required', ...route }],
      origin: origin.url,
      headers: { 'X-User-Email': 'email' },
    },
    secrets,
  );
}

/** The flat variables of one issuer whose introspection endpoint is found in its metadata. */
function flatIntrospecting(issuer: TestIssuer, origin: TestOrigin): Env {
  return {
    ISSUER: issuer.url,
    AUDIENCE,
    JWKS_URI: issuer.jwksUri,
    ORIGIN: origin.url,
    INTROSPECTION_CLIENT_ID: DEV_INTROSPECTION_CLIENT.id,
    INTROSPECTION_CLIENT_SECRET: SECRET_NAME,
    [SECRET_NAME]: DEV_INTROSPECTION_CLIENT.secret,
  } as Env;
}

const now = () => Math.floor(Date.now() / 1000);

function members(issuer: TestIssuer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    scope: 'read write',
    client_id: 'web-app',
    sub: 'user-42',
    email: 'ada@example.com',
    aud: AUDIENCE,
    iss: issuer.url,
    exp: now() + 3600,
    iat: now(),
    token_type: 'Bearer',
    ...extra,
  };
}

async function outcome(response: Response): Promise<string> {
  return response.status === 200 ? 'ok' : `${response.status} ${((await response.json()) as { code: string }).code}`;
}

async function calls(issuer: TestIssuer): Promise<number> {
  return (await issuer.stats()).introspectionCalls;
}

describe('opaque tokens (RFC 7662 introspection)', () => {
  it('accepts an active token, its scopes, claim rules and mapped headers from the answer; X-Auth-Claims is the answer', async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    const token = opaque();
    await issuer.introspectable(token, members(issuer));
    const vars = introspecting(
      issuer,
      origin,
      {},
      { scopes: { all: ['read'] }, claims: [{ claim: 'client_id', equals: 'web-app' }] },
    );
    const response = await callWorker(bearer(token), vars);
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Echo;
    expect(echo.headers['x-auth-subject']).toBe('user-42');
    expect(echo.headers['x-user-email']).toBe('ada@example.com');
    const claims = JSON.parse(
      atob((echo.headers['x-auth-claims'] as string).replaceAll('-', '+').replaceAll('_', '/')),
    );
    expect(claims).toMatchObject({ active: true, sub: 'user-42', scope: 'read write' });
    const noScope = introspecting(issuer, new TestOrigin(), {}, { scopes: { all: ['admin'] } });
    expect(await outcome(await callWorker(bearer(token), noScope))).toBe('403 insufficient_scope');
  });

  it('refuses a revoked token (token_inactive), an expired answer, another audience, another issuer and a refresh token', async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    const vars = introspecting(issuer, origin, { cache_seconds: 0 });
    const cases: [Record<string, unknown> | 'revoked', string][] = [
      ['revoked', '401 token_inactive'],
      [{ exp: now() - 120 }, '401 token_expired'],
      [{ nbf: now() + 600 }, '401 token_not_yet_valid'],
      [{ iat: now() + 600 }, '401 token_not_yet_valid'],
      [{ iat: 'yesterday' }, '401 invalid_claims'],
      [{ aud: 'https://other.example' }, '401 wrong_audience'],
      [{ iss: 'https://elsewhere.example/' }, '401 wrong_issuer'],
      [{ token_type: 'refresh_token' }, '401 wrong_token_type'],
      [{ token_type: undefined, typ: 'Refresh' }, '401 wrong_token_type'],
      [{ active: 'true' }, '401 token_inactive'],
    ];
    for (const [change, expected] of cases) {
      const token = opaque();
      await issuer.introspectable(token, change === 'revoked' ? members(issuer) : members(issuer, change));
      if (change === 'revoked') await issuer.revoke(token);
      const response = await callWorker(bearer(token), vars);
      expect({ change, outcome: await outcome(response) }).toEqual({ change, outcome: expected });
      if (expected.endsWith('token_inactive'))
        expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    }
    expect(await origin.hits()).toBe(0);
  });

  it("holds an answer to the issuer's required claims and tenant rules, as a JWT", async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    const required = introspecting(issuer, origin, { cache_seconds: 0 }, {}, undefined, {
      required_claims: ['org_id'],
    });
    const template = `${issuer.url}/{tenantid}/v2.0`;
    const tenanted = introspecting(issuer, origin, { cache_seconds: 0 }, {}, undefined, {
      issuer: template,
      tenants: ['t1'],
    });
    const cases: [Env, Record<string, unknown>, string][] = [
      [required, {}, '401 invalid_claims'],
      [required, { org_id: 'acme' }, 'ok'],
      [tenanted, { iss: template.replace('{tenantid}', 't1'), tid: 't1' }, 'ok'],
      [tenanted, { iss: template.replace('{tenantid}', 't1'), tid: 't2' }, '401 wrong_issuer'],
      [tenanted, { iss: template.replace('{tenantid}', 't2'), tid: 't2' }, '401 wrong_issuer'],
      // Without `iss` the tenant is unknown: a template cannot accept it.
      [tenanted, { iss: undefined, tid: 't1' }, '401 wrong_issuer'],
    ];
    for (const [vars, change, expected] of cases) {
      const token = opaque();
      await issuer.introspectable(token, members(issuer, change));
      const result = await outcome(await callWorker(bearer(token), vars));
      expect({ change, result }).toEqual({ change, result: expected });
    }
    expect(await origin.hits()).toBe(2);
  });

  it('reuses an answer from memory and, in a second isolate, from the data centre Cache API, counting calls', async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    const token = opaque();
    await issuer.introspectable(token, members(issuer));
    const vars = introspecting(issuer, origin, { cache_seconds: 300 });
    const isolate = () => createApp(parseConfig(vars), { log: () => {} });
    const call = async (app: ReturnType<typeof isolate>) => {
      const ctx = createExecutionContext();
      const response = await app.app.fetch(
        bearer(token),
        { ...vars, JWKS_CACHE: (env as unknown as Env).JWKS_CACHE },
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return response.status;
    };
    const first = isolate();
    expect(await call(first)).toBe(200);
    expect(await call(first)).toBe(200);
    expect(await calls(issuer)).toBe(1);
    const second = isolate();
    expect(await call(second)).toBe(200);
    expect(await calls(issuer)).toBe(1);
    // Revoked at the server: still active here until the answer's reuse ends (the documented trade-off).
    await issuer.revoke(token);
    expect(await call(first)).toBe(200);
  });

  it('a copy read late from the data centre cache is reused only until the first reader would stop, never for a fresh cache_seconds', async () => {
    const issuer = await TestIssuer.create();
    const token = opaque();
    await issuer.introspectable(token, members(issuer));
    const vars = introspecting(issuer, new TestOrigin(), { cache_seconds: 10 });
    let clock = Date.now();
    const isolate = () => createApp(parseConfig(vars), { now: () => clock, log: () => {} });
    const call = async (app: ReturnType<typeof isolate>) => {
      const ctx = createExecutionContext();
      const response = await app.app.fetch(bearer(token), vars, ctx);
      await waitOnExecutionContext(ctx);
      return response.status;
    };
    expect(await call(isolate())).toBe(200);
    clock += 8_000;
    const late = isolate();
    expect(await call(late)).toBe(200);
    expect(await calls(issuer)).toBe(1);
    // 11 s after the call: past its 10 s, though only 3 s after the late isolate read the copy.
    clock += 3_000;
    expect(await call(late)).toBe(200);
    expect(await calls(issuer)).toBe(2);
  });

  it('keeps an inactive answer briefly: a made-up token costs one call, then none', async () => {
    const issuer = await TestIssuer.create();
    const vars = introspecting(issuer, new TestOrigin());
    const madeUp = opaque();
    for (let i = 0; i < 5; i++)
      expect(await outcome(await callWorker(bearer(madeUp), vars))).toBe('401 token_inactive');
    expect(await calls(issuer)).toBe(1);
  });

  it('shares one call among 50 concurrent requests with one token', async () => {
    const issuer = await TestIssuer.create();
    const token = opaque();
    await issuer.introspectable(token, members(issuer));
    await issuer.setIntrospectionMode('slow');
    const vars = introspecting(issuer, new TestOrigin());
    const statuses = await Promise.all(
      Array.from({ length: 50 }, () => callWorker(bearer(token), vars).then((r) => r.status)),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(await calls(issuer)).toBe(1);
  });

  it('answers 503 with Retry-After when the endpoint is down, slow, answers non-JSON, 429 or 5xx; 500 when it refuses our credentials', async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    for (const mode of ['error500', 'status429', 'html'] as const) {
      await issuer.setIntrospectionMode(mode);
      const response = await callWorker(bearer(opaque()), introspecting(issuer, origin));
      expect({ mode, outcome: await outcome(response) }).toEqual({ mode, outcome: '503 introspection_unavailable' });
      expect(response.headers.get('retry-after')).toBe('5');
    }
    await issuer.setIntrospectionMode('ok');
    const down = introspecting(issuer, origin, { endpoint: 'http://127.0.0.1:9/introspect' });
    expect(await outcome(await callWorker(bearer(opaque()), down))).toBe('503 introspection_unavailable');
    const wrongSecret = introspecting(issuer, origin, {}, {}, { [SECRET_NAME]: 'not-the-secret' });
    expect(await outcome(await callWorker(bearer(opaque()), wrongSecret))).toBe('500 introspection_unauthorized');
    expect(
      log.mock.calls.some(([line]: unknown[]) => String(line).includes('"event":"introspection_unauthorized"')),
    ).toBe(true);
    const noSecret = introspecting(issuer, origin, {}, {}, {});
    expect(await outcome(await callWorker(bearer(opaque()), noSecret))).toBe('500 config_invalid');
    expect(await origin.hits()).toBe(0);
  });

  it('gives up on an endpoint that does not answer within the timeout', async () => {
    const issuer = await TestIssuer.create();
    await issuer.setIntrospectionMode('hang');
    const started = Date.now();
    const response = await callWorker(bearer(opaque()), introspecting(issuer, new TestOrigin()));
    expect(await outcome(response)).toBe('503 introspection_unavailable');
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 20_000);

  it(`refuses new tokens fast once ${INTROSPECTION_MAX_IN_FLIGHT} calls are in flight in the isolate, never queueing more`, async () => {
    const issuer = await TestIssuer.create();
    await issuer.setIntrospectionMode('hang');
    const vars = introspecting(issuer, new TestOrigin());
    const started = Date.now();
    const extra = 8;
    const settled = await Promise.all(
      Array.from({ length: INTROSPECTION_MAX_IN_FLIGHT + extra }, async () => {
        const response = await callWorker(bearer(opaque()), vars);
        return { outcome: await outcome(response), ms: Date.now() - started };
      }),
    );
    expect(settled.every(({ outcome }) => outcome === '503 introspection_unavailable')).toBe(true);
    // Those past the bound were answered at once; the others waited for the endpoint's timeout.
    expect(settled.filter(({ ms }) => ms < 2_000).length).toBeGreaterThanOrEqual(extra);
    expect(await calls(issuer)).toBeLessThanOrEqual(INTROSPECTION_MAX_IN_FLIGHT);
  }, 20_000);

  it('a 400 from the endpoint (it cannot introspect this kind of token) is token_inactive, logged loudly', async () => {
    const issuer = await TestIssuer.create();
    await issuer.setIntrospectionMode('status400');
    expect(await outcome(await callWorker(bearer(opaque()), introspecting(issuer, new TestOrigin())))).toBe(
      '401 token_inactive',
    );
    expect(log.mock.calls.some(([line]: unknown[]) => String(line).includes('"event":"introspection_refused"'))).toBe(
      true,
    );
  });

  it('tokens "all": a JWT whose signature is good is refused once revoked, cached or not', async () => {
    const issuer = await TestIssuer.create();
    const jwt = await issuer.mint();
    await issuer.introspectable(jwt, { active: true });
    const vars = introspecting(issuer, new TestOrigin(), { tokens: 'all', cache_seconds: 0 });
    for (let i = 0; i < 3; i++) expect(await outcome(await callWorker(bearer(jwt), vars))).toBe('ok');
    await issuer.revoke(jwt);
    expect(await outcome(await callWorker(bearer(jwt), vars))).toBe('401 token_inactive');
    // A JWT that fails its own checks is never sent to the endpoint.
    const before = await calls(issuer);
    const forged = `${jwt.slice(0, -6)}AAAAAA`;
    expect(await outcome(await callWorker(bearer(forged), vars))).toBe('401 bad_signature');
    expect(await calls(issuer)).toBe(before);
  });

  it('never sends a broken JWT, or another issuer route token, to the endpoint', async () => {
    const issuer = await TestIssuer.create();
    const other = await TestIssuer.create();
    const origin = new TestOrigin();
    const vars = policyVars(
      {
        issuers: {
          corp: policyIssuer(issuer, {
            introspection: {
              endpoint: issuer.introspectionEndpoint,
              client_id: DEV_INTROSPECTION_CLIENT.id,
              client_secret: SECRET_NAME,
            },
          }),
          partner: policyIssuer(other),
        },
        routes: [
          { path: '/partner/*', access: 'required', issuers: ['partner'] },
          { path: '/*', access: 'required', issuers: ['corp'] },
        ],
        origin: origin.url,
      },
      { [SECRET_NAME]: DEV_INTROSPECTION_CLIENT.secret },
    );
    expect(await outcome(await callWorker(bearer(opaque(), '/partner/x'), vars))).toBe('401 malformed_token');
    const brokenJws = `${btoa(JSON.stringify({ alg: 'RS256' })).replace(/=+$/, '')}.bm90LWpzb24.c2ln`;
    expect(await outcome(await callWorker(bearer(brokenJws), vars))).toBe('401 malformed_token');
    expect(await calls(issuer)).toBe(0);
  });

  it('never writes the token into a log line or a cache key', async () => {
    const issuer = await TestIssuer.create();
    const token = opaque();
    await issuer.introspectable(token, members(issuer));
    const keys: string[] = [];
    const realPut = caches.default.put.bind(caches.default);
    const put = vi.spyOn(caches.default, 'put').mockImplementation((request, response) => {
      keys.push(String(request instanceof Request ? request.url : request));
      return realPut(request, response);
    });
    try {
      const vars = introspecting(issuer, new TestOrigin());
      expect(await outcome(await callWorker(bearer(token), vars))).toBe('ok');
      await issuer.setIntrospectionMode('error500');
      await callWorker(bearer(opaque()), vars);
    } finally {
      put.mockRestore();
    }
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.some((key) => key.includes(token))).toBe(false);
    expect(log.mock.calls.some(([line]: unknown[]) => String(line).includes(token))).toBe(false);
  });

  it('refuses a route with two issuers that introspect, naming the route', () => {
    const issuer = {
      issuer: 'https://a.example/',
      audiences: ['x'],
      introspection: { client_id: 'c', client_secret: 'S' },
    };
    expect(() =>
      parseConfig({
        POLICY: {
          issuers: { a: issuer, b: { ...issuer, issuer: 'https://b.example/' } },
          routes: [{ path: '/*', access: 'required', issuers: ['a', 'b'] }],
        },
      }),
    ).toThrow(/POLICY\.routes\[0\]\.issuers: names a and b, which both introspect/);
  });

  it(`tries a failed discovery of the endpoint again only after ${INTROSPECTION_UNAVAILABLE_RETRY_AFTER_SECONDS} s (the Retry-After), not per request`, async () => {
    const issuer = await TestIssuer.create();
    const token = opaque();
    await issuer.introspectable(token, members(issuer));
    const vars = flatIntrospecting(issuer, new TestOrigin());
    let discoveryDown = true;
    let discoveries = 0;
    const fetchWithDiscoveryDown: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.includes('/.well-known/')) {
        discoveries++;
        if (discoveryDown) return Promise.reject(new TypeError('connection refused'));
      }
      return fetch(input, init);
    };
    let clock = Date.now();
    const { app } = createApp(parseConfig(vars), { now: () => clock, log: () => {}, fetch: fetchWithDiscoveryDown });
    const call = async () => outcome(await app.fetch(bearer(token), envWith(vars), createExecutionContext()));
    expect(await call()).toBe('503 introspection_unavailable');
    const afterFirst = discoveries;
    expect(afterFirst).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) expect(await call()).toBe('503 introspection_unavailable');
    expect(discoveries).toBe(afterFirst);
    discoveryDown = false;
    clock += INTROSPECTION_UNAVAILABLE_RETRY_AFTER_SECONDS * 1000;
    expect(await call()).toBe('ok');
  });

  it('a request sharing another request’s call waits for it at most the call’s own timeout, then answers 503', async () => {
    // On Workers, the call of a request whose client went away may never settle for the others.
    const issuer = await TestIssuer.create();
    const clock = manualClock();
    const config = parseConfig(introspecting(issuer, new TestOrigin())).issuers[0] as Parameters<
      typeof createIntrospector
    >[0];
    const never: typeof fetch = () => new Promise<Response>(() => {});
    const introspector = createIntrospector(config, { now: clock.now, clock, log: () => {}, fetch: never });
    const io = { cache: undefined, secret: () => DEV_INTROSPECTION_CLIENT.secret, waitUntil() {} };
    const token = opaque();
    void introspector.introspect(token, io, newDecision());
    await new Promise((resolve) => setTimeout(resolve, 20));
    let settled: string | undefined;
    const waiter = introspector.introspect(token, io, newDecision()).then(
      () => 'answered',
      (error: { code?: string }) => error.code,
    );
    void waiter.then((code) => {
      settled = code;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    clock.advance(INTROSPECTION_TIMEOUT_MS - 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBeUndefined();
    clock.advance(1);
    expect(await waiter).toBe('introspection_unavailable');
  });

  it('works from the flat variables, the endpoint found in the issuer metadata', async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    const token = opaque();
    await issuer.introspectable(token, members(issuer));
    const vars = flatIntrospecting(issuer, origin);
    expect(
      await outcome(
        await callWorker(new Request(`${WORKER_URL}/x`, { headers: { authorization: `Bearer ${token}` } }), vars),
      ),
    ).toBe('ok');
  });
});
