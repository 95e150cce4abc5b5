import { env } from 'cloudflare:workers';
import { Hono } from 'hono';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWK,
  jwtVerify,
} from 'jose';
import { beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { DEV_INTROSPECTION_CLIENT } from '../scripts/dev-introspection-client.ts';
import { DEFAULT_IDENTITY_ASSERTION_JWKS_PATH, RESERVED_IDENTITY_ASSERTION_CLAIMS } from '../src/constants.ts';
import type { Env } from '../src/env.ts';
import { edgeVerifier } from '../src/hono/middleware.ts';
import { verifyIdentitySignature } from '../src/identity/signature.ts';
import { assertionKey, keySet, PUBLIC_JWK_MEMBERS } from './helpers/assertion-keys.ts';
import { AUDIENCE, TestIssuer } from './helpers/issuer.ts';
import { type Echo, TestOrigin } from './helpers/origin.ts';
import { policyIssuer } from './helpers/policy.ts';
import { bearer, ClockedGateway, callWorker, varsFor, WORKER_URL } from './helpers/worker.ts';

const KEYS = 'ASSERTION_KEYS';
const ASSERTION_ISSUER = 'https://edge.example.test';
const HEADER = 'x-auth-assertion';
const JWKS_URL = `${WORKER_URL}${DEFAULT_IDENTITY_ASSERTION_JWKS_PATH}`;

let issuer: TestIssuer;
let es256: JWK;
let ed25519: JWK;
beforeAll(async () => {
  issuer = await TestIssuer.create();
  [es256, ed25519] = await Promise.all([assertionKey('ES256', 'edge-1'), assertionKey('Ed25519', 'edge-2')]);
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

/** Public, optional, off and required routes, the assertion at the top level. */
function policyFor(origin: TestOrigin, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuers: { corp: policyIssuer(issuer) },
    routes: [
      { path: '/public/*', access: 'public' },
      { path: '/maybe/*', access: 'optional' },
      { path: '/off/*', access: 'required', identity_assertion: false },
      { path: '/*', access: 'required' },
    ],
    origin: origin.url,
    identity_assertion: { signing_key: KEYS, issuer: ASSERTION_ISSUER, claims: ['sub', 'email', 'scope', 'dept'] },
    ...extra,
  };
}

/** The policy and its signing secret (`null`: no secret bound). */
function vars(policy: Record<string, unknown>, secret: string | null = keySet(es256, ed25519)): Env {
  return { POLICY: policy, ...(secret === null ? {} : { [KEYS]: secret }) } as Env;
}

async function echoOf(response: Response): Promise<Echo> {
  expect(response.status).toBe(200);
  expect(response.headers.get('x-origin')).toBe('echo');
  return (await response.json()) as Echo;
}

async function jwksOf(env: Env): Promise<JSONWebKeySet> {
  const response = await callWorker(new Request(JWKS_URL), env);
  expect(response.status).toBe(200);
  return (await response.json()) as JSONWebKeySet;
}

describe('the identity assertion, verified by others', () => {
  const gateway = inject('assertionGateway');
  const originAudience = new URL(inject('originUrl')).origin;
  const jwksUrl = new URL(`${gateway.url}${DEFAULT_IDENTITY_ASSERTION_JWKS_PATH}`);
  let assertion: string;

  beforeAll(async () => {
    const tenant = await TestIssuer.create(['RS256'], gateway.tenant);
    const token = await tenant.mint({ claims: { email: 'alice@example.com' } });
    // Through the gateway over real HTTP, with a copy of the header the client made up.
    const response = await fetch(`${gateway.url}/orders/42`, {
      headers: { authorization: `Bearer ${token}`, [HEADER]: 'forged' },
    });
    const echo = await echoOf(response);
    expect(echo.path).toBe(`${gateway.originPath}/orders/42`);
    assertion = echo.headers[HEADER] as string;
    expect(assertion).not.toBe('forged');
  });

  it("jose's jwtVerify accepts it against the gateway's JWKS, fetched over HTTP", async () => {
    const { payload, protectedHeader } = await jwtVerify(assertion, createRemoteJWKSet(jwksUrl), {
      issuer: gateway.issuer,
      audience: originAudience,
      typ: 'JWT',
    });
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: 'gateway-es256', typ: 'JWT' });
    expect(payload).toMatchObject({
      sub: 'user-1',
      email: 'alice@example.com',
      scope: 'read write',
      token_iss: `${inject('issuerUrl')}/t/${gateway.tenant}`,
    });
  });

  it('edge-verifier’s own middleware, one hop in, trusts the gateway as an issuer', async () => {
    const inner = new Hono();
    inner.use(
      '*',
      edgeVerifier({
        vars: {
          POLICY: {
            issuers: { edge: { issuer: gateway.issuer, audiences: [originAudience], jwks_uri: jwksUrl.href } },
            routes: [{ path: '/*', access: 'required' }],
            token_sources: [{ header: 'X-Auth-Assertion' }],
          },
        },
        log: () => {},
      }),
    );
    inner.get('*', (c) => c.json(c.var.auth));
    const admitted = await inner.request('https://inner.example.test/orders', { headers: { [HEADER]: assertion } });
    expect(admitted.status).toBe(200);
    const auth = (await admitted.json()) as { subject: string; issuerId: string; claims: Record<string, unknown> };
    expect(auth).toMatchObject({ subject: 'user-1', issuerId: 'edge', claims: { email: 'alice@example.com' } });

    // The same check refuses an assertion whose payload was changed under its signature.
    const [head, , signature] = assertion.split('.');
    const forged = btoa(JSON.stringify({ ...decodeJwt(assertion), sub: 'admin' })).replace(/=+$/, '');
    const refused = await inner.request('https://inner.example.test/orders', {
      headers: { [HEADER]: `${head}.${forged.replace(/\+/g, '-').replace(/\//g, '_')}.${signature}` },
    });
    expect(refused.status).toBe(401);
  });
});

describe('what the assertion says', () => {
  it('header alg, kid and typ; payload iss, aud, sub, iat, exp, jti, token_iss, then the listed claims present', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims: { email: 'alice@example.com', other: 'not listed' } });
    const echo = await echoOf(await callWorker(bearer(token), vars(policyFor(origin))));
    const assertion = echo.headers[HEADER] as string;
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'ES256', kid: 'edge-1', typ: 'JWT' });
    const payload = decodeJwt(assertion);
    expect(Object.keys(payload)).toEqual(['iss', 'aud', 'sub', 'iat', 'exp', 'jti', 'token_iss', 'email', 'scope']);
    expect(payload).toMatchObject({
      iss: ASSERTION_ISSUER,
      aud: new URL(origin.url).origin,
      sub: 'user-1',
      token_iss: issuer.url,
      email: 'alice@example.com',
      scope: 'read write',
    });
    expect((payload.exp as number) - (payload.iat as number)).toBe(60);
    expect(Math.abs((payload.iat as number) - Date.now() / 1000)).toBeLessThan(5);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('lifetime_seconds sets exp; a route’s own object replaces the top-level one whole', async () => {
    const origin = new TestOrigin();
    const policy = policyFor(origin, {
      routes: [
        {
          path: '/*',
          access: 'required',
          identity_assertion: { signing_key: KEYS, issuer: 'https://inner.example.test', lifetime_seconds: 5 },
        },
      ],
    });
    const echo = await echoOf(await callWorker(bearer(await issuer.mint({ claims: { email: 'a@b' } })), vars(policy)));
    const payload = decodeJwt(echo.headers[HEADER] as string);
    expect(payload.iss).toBe('https://inner.example.test');
    expect((payload.exp as number) - (payload.iat as number)).toBe(5);
    // The route's default claims (sub, scope), not the top level's list.
    expect(payload.email).toBeUndefined();
    expect(payload.scope).toBe('read write');
  });

  it('an introspection answer without iss: token_iss is the issuer that answered', async () => {
    const origin = new TestOrigin();
    const token = `at_${crypto.randomUUID().replaceAll('-', '')}`;
    await issuer.introspectable(token, {
      sub: 'user-42',
      scope: 'read',
      aud: AUDIENCE,
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    const introspecting = policyIssuer(issuer, {
      introspection: {
        endpoint: issuer.introspectionEndpoint,
        client_id: DEV_INTROSPECTION_CLIENT.id,
        client_secret: 'INTROSPECTION_SECRET',
      },
    });
    const env = {
      ...vars(policyFor(origin, { issuers: { corp: introspecting } })),
      INTROSPECTION_SECRET: DEV_INTROSPECTION_CLIENT.secret,
    } as Env;
    const payload = decodeJwt((await echoOf(await callWorker(bearer(token), env))).headers[HEADER] as string);
    expect(payload).toMatchObject({ sub: 'user-42', token_iss: issuer.url });
  });

  it('through a service binding, aud is the binding’s name', async () => {
    const policy = policyFor(new TestOrigin(), { origin: undefined, origin_service: 'ORIGIN_SERVICE' });
    const service = (env as unknown as Env).ORIGIN_SERVICE;
    const response = await callWorker(bearer(await issuer.mint()), { ...vars(policy), ORIGIN_SERVICE: service });
    expect(response.status).toBe(200);
    const echo = (await response.json()) as { headers: Record<string, string> };
    expect(decodeJwt(echo.headers[HEADER] as string).aud).toBe('ORIGIN_SERVICE');
  });

  it('the flat variables IDENTITY_ASSERTION_KEY and IDENTITY_ASSERTION_ISSUER turn it on', async () => {
    const origin = new TestOrigin();
    const env = varsFor(issuer, origin, {
      IDENTITY_ASSERTION_KEY: KEYS,
      IDENTITY_ASSERTION_ISSUER: ASSERTION_ISSUER,
      [KEYS]: keySet(es256),
    } as Partial<Env>);
    const echo = await echoOf(await callWorker(bearer(await issuer.mint()), env));
    const jwks = createLocalJWKSet(await jwksOf(env));
    const { payload } = await jwtVerify(echo.headers[HEADER] as string, jwks, { issuer: ASSERTION_ISSUER });
    expect(payload.sub).toBe('user-1');
  });
});

describe('which requests carry one', () => {
  it.each([
    ['a verified request: the gateway’s replaces it', '/resource', true],
    ['a public route: stripped, none sent', '/public/page', false],
    ['an optional route without a token: stripped, none sent', '/maybe/page', false],
    ['a route with identity_assertion = false: stripped, none sent', '/off/page', false],
  ])('a client-sent copy, on %s', async (_name, path, asserted) => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const headers = { [HEADER]: 'forged', 'x-keep': 'yes' };
    const request =
      path.startsWith('/public') || path.startsWith('/maybe')
        ? new Request(`${WORKER_URL}${path}`, { headers })
        : bearer(token, path, { headers });
    const env = vars(policyFor(origin));
    const echo = await echoOf(await callWorker(request, env));
    expect(echo.headers['x-keep']).toBe('yes');
    if (!asserted) {
      expect(echo.headers[HEADER]).toBeUndefined();
      return;
    }
    const { payload } = await jwtVerify(echo.headers[HEADER] as string, createLocalJWKSet(await jwksOf(env)));
    expect(payload.sub).toBe('user-1');
  });

  it('a header of another name is stripped on every route too, public ones included', async () => {
    const origin = new TestOrigin();
    const policy = policyFor(origin, {
      identity_assertion: { signing_key: KEYS, issuer: ASSERTION_ISSUER, header: 'X-Identity-Jwt' },
    });
    const publicEcho = await echoOf(
      await callWorker(
        new Request(`${WORKER_URL}/public/page`, { headers: { 'x-identity-jwt': 'forged' } }),
        vars(policy),
      ),
    );
    expect(publicEcho.headers['x-identity-jwt']).toBeUndefined();
    const echo = await echoOf(
      await callWorker(
        bearer(await issuer.mint(), '/resource', { headers: { 'x-identity-jwt': 'forged' } }),
        vars(policy),
      ),
    );
    expect(decodeJwt(echo.headers['x-identity-jwt'] as string).sub).toBe('user-1');
    expect(echo.headers[HEADER]).toBeUndefined();
  });

  it('a route without one sends none when another route has its own', async () => {
    const origin = new TestOrigin();
    const policy = {
      issuers: { corp: policyIssuer(issuer) },
      routes: [
        { path: '/signed/*', access: 'required', identity_assertion: { signing_key: KEYS, issuer: ASSERTION_ISSUER } },
        { path: '/*', access: 'required' },
      ],
      origin: origin.url,
    };
    const token = await issuer.mint();
    const plain = await echoOf(await callWorker(bearer(token, '/plain', { headers: { [HEADER]: 'x' } }), vars(policy)));
    expect(plain.headers[HEADER]).toBeUndefined();
    expect(plain.headers['x-auth-subject']).toBe('user-1');
    const signed = await echoOf(await callWorker(bearer(token, '/signed/x'), vars(policy)));
    expect(decodeJwt(signed.headers[HEADER] as string).sub).toBe('user-1');
  });

  it('with sign_headers, X-Auth-Signature covers the assertion header, last', async () => {
    const origin = new TestOrigin();
    const secret = 'identity-signing-key-for-tests-0123456789';
    const env = { ...vars(policyFor(origin, { sign_headers: { secret: 'SIGNING' } })), SIGNING: secret } as Env;
    const echo = await echoOf(await callWorker(bearer(await issuer.mint()), env));
    const received = new Request(`${inject('originUrl')}${echo.path}${echo.query}`, {
      headers: Object.entries(echo.headers).map(([name, value]) => [name, String(value)] as [string, string]),
    });
    const check = await verifyIdentitySignature(received, secret);
    expect(check).toMatchObject({ valid: true, headers: ['x-auth-subject', 'x-auth-claims', HEADER] });
    // Another assertion under the same signature fails.
    received.headers.set(HEADER, `${echo.headers[HEADER]}x`);
    expect(await verifyIdentitySignature(received, secret)).toEqual({ valid: false, reason: 'mismatch' });
  });
});

describe('signing once per token and route', () => {
  it('the same token within half a lifetime reuses the assertion; past it, or another token, signs anew', async () => {
    const origin = new TestOrigin();
    const gateway = new ClockedGateway(vars(policyFor(origin)));
    const token = await issuer.mint({ at: gateway.nowSeconds });
    const first = (await echoOf(await gateway.call(bearer(token)))).headers[HEADER];
    const sign = vi.spyOn(crypto.subtle, 'sign');
    const again = async (request = bearer(token)) => (await echoOf(await gateway.call(request))).headers[HEADER];

    expect(await again()).toBe(first);
    gateway.advance(29);
    expect(await again()).toBe(first);
    expect(sign).not.toHaveBeenCalled();

    gateway.advance(1);
    const renewed = await again();
    expect(renewed).not.toBe(first);
    expect(decodeJwt(renewed as string).jti).not.toBe(decodeJwt(first as string).jti);
    expect(sign).toHaveBeenCalledTimes(1);

    sign.mockClear();
    const otherToken = await issuer.mint({ at: gateway.nowSeconds, claims: { sub: 'user-2' } });
    sign.mockClear();
    const other = await again(bearer(otherToken));
    expect(decodeJwt(other as string).sub).toBe('user-2');
    expect(sign).toHaveBeenCalledTimes(1);
  });

  it('never outlives the token: exp is the token’s own when that comes first, and reuse ends halfway to it', async () => {
    const origin = new TestOrigin();
    const gateway = new ClockedGateway(vars(policyFor(origin)));
    const expiresAt = gateway.nowSeconds + 20;
    const token = await issuer.mint({ at: gateway.nowSeconds, claims: { exp: expiresAt } });
    const again = async () => (await echoOf(await gateway.call(bearer(token)))).headers[HEADER] as string;
    const first = await again();
    expect(decodeJwt(first).exp).toBe(expiresAt);
    gateway.advance(9);
    expect(await again()).toBe(first);
    gateway.advance(1);
    const renewed = await again();
    expect(renewed).not.toBe(first);
    expect(decodeJwt(renewed).exp).toBe(expiresAt);
  });

  it('two routes with different audiences each sign their own', async () => {
    const [a, b] = [new TestOrigin(), new TestOrigin()];
    const policy = policyFor(a, {
      origin: 'https://unused.example.test',
      routes: [
        { path: '/a/*', access: 'required', origin: a.url },
        { path: '/b/*', access: 'required', origin: b.url.replace('127.0.0.1', 'localhost') },
      ],
    });
    const token = await issuer.mint();
    const env = vars(policy);
    const first = decodeJwt((await echoOf(await callWorker(bearer(token, '/a/x'), env))).headers[HEADER] as string);
    const second = decodeJwt((await echoOf(await callWorker(bearer(token, '/b/x'), env))).headers[HEADER] as string);
    expect(first.aud).toBe(new URL(a.url).origin);
    expect(second.aud).toBe(new URL(b.url.replace('127.0.0.1', 'localhost')).origin);
    expect(second.jti).not.toBe(first.jti);
  });
});

describe('the JWKS endpoint', () => {
  it('serves the public half of every key, public and cacheable, never forwarded', async () => {
    const origin = new TestOrigin();
    const env = vars(policyFor(origin));
    const response = await callWorker(new Request(JWKS_URL), env);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(response.headers.get('content-type')).toBe('application/jwk-set+json');
    const { keys } = (await response.json()) as { keys: JWK[] };
    expect(keys.map((key) => [key.kid, key.alg, key.kty, key.crv])).toEqual([
      ['edge-1', 'ES256', 'EC', 'P-256'],
      ['edge-2', 'EdDSA', 'OKP', 'Ed25519'],
    ]);
    for (const key of keys) {
      for (const member of Object.keys(key)) expect(PUBLIC_JWK_MEMBERS.has(member), member).toBe(true);
      expect(key).not.toHaveProperty('d');
    }
    expect(JSON.stringify(keys)).not.toContain(es256.d as string);
    expect(JSON.stringify(keys)).not.toContain(ed25519.d as string);
    const head = await callWorker(new Request(JWKS_URL, { method: 'HEAD' }), env);
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(await origin.hits()).toBe(0);
  });

  it.each([
    ['a doubled slash', `${WORKER_URL}//.well-known/edge-verifier/jwks.json`],
    ['an encoded dot', `${WORKER_URL}/.well-known/edge-verifier/jwks%2Ejson`],
  ])('another spelling of its path (%s) is answered too, never forwarded', async (_name, url) => {
    // With a token, so that the catch-all route would forward it were it not the gateway's own.
    const origin = new TestOrigin();
    const authorization = `Bearer ${await issuer.mint()}`;
    const variant = await callWorker(new Request(url, { headers: { authorization } }), vars(policyFor(origin)));
    expect(variant.headers.get('content-type')).toBe('application/jwk-set+json');
    expect(((await variant.json()) as { keys: JWK[] }).keys.map((key) => key.kid)).toEqual(['edge-1', 'edge-2']);
    expect(await origin.hits()).toBe(0);
  });

  it('other methods: 405 with Allow, nothing forwarded', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(new Request(JWKS_URL, { method: 'POST', body: '{}' }), vars(policyFor(origin)));
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(((await response.json()) as { code: string }).code).toBe('method_not_allowed');
    expect(await origin.hits()).toBe(0);
  });

  it('jwks_path moves it; the default path is then routed like any other', async () => {
    const origin = new TestOrigin();
    const policy = policyFor(origin, {
      identity_assertion: { signing_key: KEYS, issuer: ASSERTION_ISSUER, jwks_path: '/keys/edge.json' },
    });
    const moved = await callWorker(new Request(`${WORKER_URL}/keys/edge.json`), vars(policy));
    expect(((await moved.json()) as { keys: JWK[] }).keys).toHaveLength(2);
    expect((await callWorker(new Request(JWKS_URL), vars(policy))).status).toBe(401);
  });

  it('rotation: with two keys, assertions of either verify, and both are listed', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const before = vars(policyFor(origin), keySet(es256, ed25519));
    const byFirst = (await echoOf(await callWorker(bearer(token), before))).headers[HEADER] as string;
    const after = vars(policyFor(origin), keySet(ed25519, es256));
    const bySecond = (await echoOf(await callWorker(bearer(token), after))).headers[HEADER] as string;
    expect(decodeProtectedHeader(byFirst)).toMatchObject({ kid: 'edge-1', alg: 'ES256' });
    expect(decodeProtectedHeader(bySecond)).toMatchObject({ kid: 'edge-2', alg: 'EdDSA' });
    const jwks = await jwksOf(after);
    expect(jwks.keys.map((key) => key.kid)).toEqual(['edge-2', 'edge-1']);
    for (const assertion of [byFirst, bySecond]) {
      const { payload } = await jwtVerify(assertion, createLocalJWKSet(jwks), { issuer: ASSERTION_ISSUER });
      expect(payload.sub).toBe('user-1');
    }
  });
});

describe('refused configurations', () => {
  it.each(RESERVED_IDENTITY_ASSERTION_CLAIMS)('the reserved claim %s is refused at start-up', async (claim) => {
    const origin = new TestOrigin();
    const policy = policyFor(origin, {
      identity_assertion: { signing_key: KEYS, issuer: ASSERTION_ISSUER, claims: ['sub', claim] },
    });
    const response = await callWorker(new Request(`${WORKER_URL}/public/page`), vars(policy));
    expect(response.status).toBe(500);
    const body = (await response.json()) as { code: string; detail: string };
    expect(body.code).toBe('config_invalid');
    expect(body.detail).toContain('POLICY.identity_assertion.claims[1]');
    expect(await origin.hits()).toBe(0);
  });

  it.each<[string, () => Promise<string | null>, string]>([
    ['a public key only', async () => keySet(publicOf(es256)), 'is a public key'],
    ['an RSA key', async () => keySet(await rsaKey()), 'is an RSA key'],
    ['a key without kid', async () => keySet({ ...es256, kid: undefined }), 'has no kid'],
    ['two keys with one kid', async () => keySet(es256, { ...ed25519, kid: 'edge-1' }), 'kid of an earlier key'],
    ['a P-384 key', async () => keySet(await p384Key()), 'neither an EC P-256 nor an Ed25519 key'],
    ['text that is not JSON', async () => 'not json at all', 'not JSON'],
    ['a missing secret', async () => null, 'is not set'],
  ])(
    '%s: 500 config_invalid naming the secret, never echoing it, nothing forwarded',
    async (_name, secretOf, problem) => {
      const origin = new TestOrigin();
      const secret = await secretOf();
      const env = vars(policyFor(origin), secret);
      for (const request of [bearer(await issuer.mint()), new Request(JWKS_URL)]) {
        const response = await callWorker(request, env);
        expect(response.status).toBe(500);
        const text = await response.text();
        const body = JSON.parse(text) as { code: string; detail: string };
        expect(body.code).toBe('config_invalid');
        expect(body.detail).toContain(KEYS);
        expect(body.detail).toContain(problem);
        for (const value of [es256.d, es256.x, 'not json at all']) expect(text).not.toContain(value);
      }
      // A public route needs no assertion and still answers.
      expect((await callWorker(new Request(`${WORKER_URL}/public/page`), env)).status).toBe(200);
      expect(await origin.hits()).toBe(1);
    },
  );
});

function publicOf({ d: _d, ...jwk }: JWK): JWK {
  return jwk;
}

async function rsaKey(): Promise<JWK> {
  const { privateKey } = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  return { ...((await crypto.subtle.exportKey('jwk', privateKey)) as JWK), kid: 'rsa' };
}

async function p384Key(): Promise<JWK> {
  const { privateKey } = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  return { ...((await crypto.subtle.exportKey('jwk', privateKey)) as JWK), kid: 'p384' };
}
