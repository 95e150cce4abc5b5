import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { DPOP_PROOF_MAX_AGE_SECONDS, DPOP_PROOF_MAX_FUTURE_SECONDS } from '../src/constants.ts';
import type { Env } from '../src/env.ts';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { policyIssuer, policyVars } from './helpers/policy.ts';
import { ClockedGateway, varsFor, WORKER_URL } from './helpers/worker.ts';

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

interface ClientKey {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
  readonly jkt: string;
}

async function clientKey(alg = 'ES256'): Promise<ClientKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
}

async function ath(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
  return btoa(String.fromCharCode(...digest))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}

interface ProofOptions {
  readonly method?: string;
  readonly url?: string;
  readonly at: number;
  readonly header?: Record<string, unknown>;
  readonly claims?: Record<string, unknown>;
}

/** A DPoP proof (RFC 9449 §4.2) for `token`, signed by `key`, as a client builds it with jose. */
async function proof(key: ClientKey, token: string, options: ProofOptions): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: crypto.randomUUID(),
    htm: options.method ?? 'GET',
    htu: options.url ?? `${WORKER_URL}/resource`,
    iat: options.at,
    ath: await ath(token),
    ...options.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims)
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk, ...options.header } as { alg: string })
    .sign(key.privateKey);
}

function request(scheme: 'DPoP' | 'Bearer', token: string, dpop?: string | string[], path = '/resource'): Request {
  const headers = new Headers({ authorization: `${scheme} ${token}` });
  for (const value of dpop === undefined ? [] : [dpop].flat()) headers.append('dpop', value);
  return new Request(`${WORKER_URL}${path}`, { headers });
}

async function outcome(gateway: ClockedGateway, req: Request): Promise<{ code: string; challenge: string | null }> {
  const response = await gateway.call(req);
  const challenge = response.headers.get('www-authenticate');
  if (response.status === 200) return { code: 'ok', challenge };
  expect(response.status).toBe(401);
  return { code: ((await response.json()) as { code: string }).code, challenge };
}

async function setUp(mode: 'allowed' | 'required' | 'off' = 'allowed', vars: Partial<Env> = {}) {
  const issuer = await TestIssuer.create(['RS256']);
  const gateway = new ClockedGateway(
    varsFor(issuer, new TestOrigin(), { DPOP: mode, ALGORITHMS: 'RS256,ES256', ...vars }),
  );
  const key = await clientKey();
  const token = await issuer.mint({ at: gateway.nowSeconds, claims: { cnf: { jkt: key.jkt } } });
  return { issuer, gateway, key, token, at: gateway.nowSeconds };
}

describe('DPoP (RFC 9449)', () => {
  it('accepts a DPoP-bound token with a valid proof of its key', async () => {
    const { gateway, key, token, at } = await setUp();
    expect((await outcome(gateway, request('DPoP', token, await proof(key, token, { at })))).code).toBe('ok');
  });

  it('accepts a proof signed with Ed25519 (RFC 9864, as oauth4webapi signs them) and names it in the challenge', async () => {
    const { issuer, gateway, at } = await setUp('allowed', { ALGORITHMS: 'RS256,EdDSA' });
    const ed = await clientKey('Ed25519');
    const token = await issuer.mint({ at, claims: { cnf: { jkt: ed.jkt } } });
    const once = await proof(ed, token, { at, header: { alg: 'Ed25519' } });
    expect((await outcome(gateway, request('DPoP', token, once))).code).toBe('ok');
    const replayed = await outcome(gateway, request('DPoP', token, once));
    expect(replayed.code).toBe('invalid_dpop_proof');
    expect(replayed.challenge).toContain('algs="RS256 EdDSA Ed25519"');
  });

  it('refuses a replayed proof (§11.1)', async () => {
    const { gateway, key, token, at } = await setUp();
    const once = await proof(key, token, { at });
    expect((await outcome(gateway, request('DPoP', token, once))).code).toBe('ok');
    const again = await outcome(gateway, request('DPoP', token, once));
    expect(again.code).toBe('invalid_dpop_proof');
    expect(again.challenge).toContain('DPoP realm="api", algs="RS256 ES256", error="invalid_dpop_proof"');
  });

  it('matches htu without the query (§4.3 step 9), and refuses another path or host', async () => {
    const { gateway, key, token, at } = await setUp();
    const call = async (url: string, path: string) =>
      (await outcome(gateway, request('DPoP', token, await proof(key, token, { at, url }), path))).code;
    expect(await call(`${WORKER_URL}/resource`, '/resource?page=2')).toBe('ok');
    expect(await call(`${WORKER_URL}/resource?other=1#frag`, '/resource?page=2')).toBe('ok');
    expect(await call(`${WORKER_URL.toUpperCase().replace('HTTPS', 'https')}:443/resource`, '/resource')).toBe('ok');
    expect(await call(`${WORKER_URL}/other`, '/resource')).toBe('invalid_dpop_proof');
    expect(await call('https://elsewhere.example/resource', '/resource')).toBe('invalid_dpop_proof');
    expect(await call(`https://user:pass@${new URL(WORKER_URL).host}/resource`, '/resource')).toBe(
      'invalid_dpop_proof',
    );
  });

  it('refuses a proof whose ath is another token’s, or that names another method', async () => {
    const { issuer, gateway, key, token, at } = await setUp();
    const other = await issuer.mint({ at, claims: { cnf: { jkt: key.jkt }, sub: 'someone-else' } });
    expect((await outcome(gateway, request('DPoP', token, await proof(key, other, { at })))).code).toBe(
      'invalid_dpop_proof',
    );
    expect((await outcome(gateway, request('DPoP', token, await proof(key, token, { at, method: 'POST' })))).code).toBe(
      'invalid_dpop_proof',
    );
  });

  it('refuses a proof signed by a key other than the token’s cnf.jkt, and a DPoP request with an unbound token', async () => {
    const { issuer, gateway, token, at } = await setUp();
    const stranger = await clientKey();
    expect((await outcome(gateway, request('DPoP', token, await proof(stranger, token, { at })))).code).toBe(
      'dpop_key_mismatch',
    );
    const unbound = await issuer.mint({ at });
    expect((await outcome(gateway, request('DPoP', unbound, await proof(stranger, unbound, { at })))).code).toBe(
      'dpop_key_mismatch',
    );
  });

  it('refuses malformed proofs: typ, alg, jwk, claims, time window, header count', async () => {
    const { gateway, key, token, at } = await setUp();
    const { privateKey: _, ...withPrivate } = { ...key, jwk: { ...key.jwk, d: 'AAAA' } };
    const es384 = await clientKey('ES384');
    const cases: [string, Promise<string | string[]> | string | undefined][] = [
      ['no DPoP header', undefined],
      ['typ jwt', proof(key, token, { at, header: { typ: 'jwt' } })],
      ['no jwk', proof(key, token, { at, header: { jwk: undefined } })],
      ['a jwk with private members', proof(key, token, { at, header: { jwk: withPrivate.jwk } })],
      ['an alg the issuer does not allow', proof(es384, token, { at, header: { alg: 'ES384' } })],
      ['no jti', proof(key, token, { at, claims: { jti: undefined } })],
      ['no ath', proof(key, token, { at, claims: { ath: undefined } })],
      [
        `iat more than ${DPOP_PROOF_MAX_AGE_SECONDS} s old`,
        proof(key, token, { at: at - DPOP_PROOF_MAX_AGE_SECONDS - 1 }),
      ],
      [
        `iat more than ${DPOP_PROOF_MAX_FUTURE_SECONDS} s ahead`,
        proof(key, token, { at: at + DPOP_PROOF_MAX_FUTURE_SECONDS + 1 }),
      ],
      ['two DPoP headers', Promise.all([proof(key, token, { at }), proof(key, token, { at })])],
      ['not a JWT', 'not-a-jwt'],
    ];
    for (const [name, made] of cases) {
      const value = await made;
      expect({ name, code: (await outcome(gateway, request('DPoP', token, value))).code }).toEqual({
        name,
        code: 'invalid_dpop_proof',
      });
    }
    // At the edges of the window the proof is still good (`at` is the clock's second, rounded down).
    expect(
      (
        await outcome(
          gateway,
          request('DPoP', token, await proof(key, token, { at: at - DPOP_PROOF_MAX_AGE_SECONDS + 1 })),
        )
      ).code,
    ).toBe('ok');
    expect(
      (
        await outcome(
          gateway,
          request('DPoP', token, await proof(key, token, { at: at + DPOP_PROOF_MAX_FUTURE_SECONDS })),
        )
      ).code,
    ).toBe('ok');
  });

  it('refuses a DPoP-bound token sent as Bearer (§7.1), with a challenge for each scheme', async () => {
    const { gateway, token } = await setUp();
    const refused = await outcome(gateway, request('Bearer', token));
    expect(refused.code).toBe('dpop_bound_token');
    expect(refused.challenge).toMatch(
      /^Bearer realm="api", error="invalid_token", [^,]+, DPoP realm="api", algs="RS256 ES256"$/,
    );
  });

  it('checks the proof on every request: a token from the verified-token cache still needs a fresh proof', async () => {
    const { gateway, key, token, at } = await setUp();
    for (let i = 0; i < 4; i++) {
      expect((await outcome(gateway, request('DPoP', token, await proof(key, token, { at })))).code).toBe('ok');
    }
    expect((await outcome(gateway, request('DPoP', token))).code).toBe('invalid_dpop_proof');
  });

  it('under required, refuses a Bearer token with a DPoP challenge only, before verifying it', async () => {
    const { issuer, gateway, at } = await setUp('required');
    const refused = await outcome(gateway, request('Bearer', await issuer.mint({ at })));
    expect(refused.code).toBe('dpop_required');
    expect(refused.challenge).toBe('DPoP realm="api", algs="RS256 ES256"');
    // An expired one too: nothing about the token is looked at.
    expect((await outcome(gateway, request('Bearer', await issuer.mint({ at: at - 3_600 })))).code).toBe(
      'dpop_required',
    );
    expect((await issuer.stats()).jwksFetches).toBe(0);
  });

  it('a DPoP request without a granted scope gets 403 with the scope in its DPoP challenge', async () => {
    const { gateway, key, token, at } = await setUp('allowed', { REQUIRED_SCOPES: 'admin' });
    const response = await gateway.call(request('DPoP', token, await proof(key, token, { at })));
    expect(response.status).toBe(403);
    expect(response.headers.get('www-authenticate')).toMatch(
      /DPoP realm="api", algs="RS256 ES256", error="insufficient_scope", [^,]+, scope="admin"$/,
    );
  });

  it('off (the default): the DPoP scheme is not accepted, and the challenge is Bearer alone', async () => {
    const { gateway, key, token, at } = await setUp('off');
    const refused = await outcome(gateway, request('DPoP', token, await proof(key, token, { at })));
    expect(refused.code).toBe('unsupported_scheme');
    expect(refused.challenge).toBe('Bearer realm="api"');
  });

  it('a route may require DPoP for an issuer that only allows it', async () => {
    const issuer = await TestIssuer.create(['RS256']);
    const origin = new TestOrigin();
    const policy = {
      origin: origin.url,
      issuers: { main: policyIssuer(issuer, { dpop: 'allowed', algorithms: ['RS256', 'ES256'] }) },
      routes: [
        { path: '/admin/*', access: 'required', dpop: 'required' },
        { path: '/*', access: 'required' },
      ],
    };
    const gateway = new ClockedGateway(policyVars(policy));
    const plain = await issuer.mint({ at: gateway.nowSeconds });
    expect((await outcome(gateway, request('Bearer', plain))).code).toBe('ok');
    expect((await outcome(gateway, request('Bearer', plain, undefined, '/admin/x'))).code).toBe('dpop_required');
  });
});

describe('DPoP replay across isolates (the DPOP_REPLAY Durable Object)', () => {
  const replayNamespace = () => (env as unknown as Env).DPOP_REPLAY as DurableObjectNamespace;

  async function twoIsolates(extra: Partial<Env>) {
    const issuer = await TestIssuer.create(['RS256']);
    const vars = varsFor(issuer, new TestOrigin(), { DPOP: 'allowed', ALGORITHMS: 'RS256,ES256', ...extra });
    const [a, b] = [new ClockedGateway(vars), new ClockedGateway(vars)];
    const key = await clientKey();
    const token = await issuer.mint({ at: a.nowSeconds, claims: { cnf: { jkt: key.jkt } } });
    return { a, b, key, token, once: await proof(key, token, { at: a.nowSeconds }) };
  }

  it('refuses a proof replayed to another isolate', async () => {
    const { a, b, once, token } = await twoIsolates({ DPOP_REPLAY: replayNamespace() });
    expect((await outcome(a, request('DPoP', token, once))).code).toBe('ok');
    expect((await outcome(b, request('DPoP', token, once))).code).toBe('invalid_dpop_proof');
    expect((await outcome(a, request('DPoP', token, once))).code).toBe('invalid_dpop_proof');
  });

  it('without the binding, each isolate keeps its own record: the weaker check the DPoP guide names', async () => {
    const { a, b, once, token } = await twoIsolates({});
    expect((await outcome(a, request('DPoP', token, once))).code).toBe('ok');
    expect((await outcome(b, request('DPoP', token, once))).code).toBe('ok');
    expect((await outcome(b, request('DPoP', token, once))).code).toBe('invalid_dpop_proof');
  });

  it('a proof by a key the token is not bound to never reaches the replay record', async () => {
    let calls = 0;
    const counting = {
      idFromName: (name: string) => name,
      get: () => ({
        firstUse: async () => {
          calls++;
          return true;
        },
      }),
    };
    const { a, token } = await twoIsolates({ DPOP_REPLAY: counting as unknown as DurableObjectNamespace });
    const stranger = await clientKey();
    expect((await outcome(a, request('DPoP', token, await proof(stranger, token, { at: a.nowSeconds })))).code).toBe(
      'dpop_key_mismatch',
    );
    expect(calls).toBe(0);
  });

  it('sweeps expired proofs at most once a minute, however many expire', async () => {
    const stub = replayNamespace().get(replayNamespace().idFromName(`sweep-test-${crypto.randomUUID()}`));
    const now = Date.now();
    await runInDurableObject(stub, async (_, state) => {
      // 1,000 records expiring a millisecond apart, half of them already expired.
      for (let i = 0; i < 1_000; i++) await state.storage.put(`k${i}`, now - 500 + i);
      await state.storage.setAlarm(now);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const { alarm, left } = await runInDurableObject(stub, async (_, state) => ({
      alarm: await state.storage.getAlarm(),
      left: (await state.storage.list()).size,
    }));
    expect(left).toBeLessThanOrEqual(500);
    expect(left).toBeGreaterThan(400);
    expect((alarm ?? 0) - Date.now()).toBeGreaterThan(30_000);
  });

  it('an object that fails: the isolate’s own record decides', async () => {
    const broken = {
      idFromName: (name: string) => name,
      get: () => ({ firstUse: () => Promise.reject(new Error('down')) }),
    };
    const { a, once, token } = await twoIsolates({ DPOP_REPLAY: broken as unknown as DurableObjectNamespace });
    expect((await outcome(a, request('DPoP', token, once))).code).toBe('ok');
    expect((await outcome(a, request('DPoP', token, once))).code).toBe('invalid_dpop_proof');
  });
});

describe('server DPoP nonces (RFC 9449 §8, §9)', () => {
  const SECRET = 'n'.repeat(40);

  it('asks for a nonce with use_dpop_nonce and a DPoP-Nonce header, then accepts the proof that carries it', async () => {
    const { gateway, key, token, at } = await setUp('allowed', { DPOP_NONCE_SECRET: SECRET } as Partial<Env>);
    const response = await gateway.call(request('DPoP', token, await proof(key, token, { at })));
    expect(response.status).toBe(401);
    expect(((await response.json()) as { code: string }).code).toBe('use_dpop_nonce');
    expect(response.headers.get('www-authenticate')).toContain(
      'DPoP realm="api", algs="RS256 ES256", error="use_dpop_nonce"',
    );
    const nonce = response.headers.get('dpop-nonce');
    expect(nonce).toMatch(/^\d+\.[A-Za-z0-9_-]{43}$/);
    const retried = await proof(key, token, { at, claims: { nonce } });
    expect((await outcome(gateway, request('DPoP', token, retried))).code).toBe('ok');
  });

  it('refuses a stale nonce, one of another secret, and a made-up one; a nonce lasts into the next window', async () => {
    const { issuer, gateway, key, at } = await setUp('allowed', { DPOP_NONCE_SECRET: SECRET } as Partial<Env>);
    // Valid for the whole test, which moves the clock ten minutes on.
    const token = await issuer.mint({ at, claims: { cnf: { jkt: key.jkt }, exp: at + 3_600 } });
    const first = await gateway.call(request('DPoP', token, await proof(key, token, { at })));
    const nonce = first.headers.get('dpop-nonce') as string;
    const withNonce = async (value: string, seconds: number) =>
      (
        await outcome(
          gateway,
          request('DPoP', token, await proof(key, token, { at: seconds, claims: { nonce: value } })),
        )
      ).code;
    const window = Number(nonce.split('.')[0]);
    expect(await withNonce(`${window}.${'A'.repeat(43)}`, at)).toBe('use_dpop_nonce');
    expect(await withNonce(`${window + 1}${nonce.slice(String(window).length)}`, at)).toBe('use_dpop_nonce');
    // Five minutes on, the nonce is from the previous window: still good. Ten minutes on, stale.
    gateway.advance(300);
    expect(await withNonce(nonce, gateway.nowSeconds)).toBe('ok');
    gateway.advance(300);
    const stale = await gateway.call(
      request('DPoP', token, await proof(key, token, { at: gateway.nowSeconds, claims: { nonce } })),
    );
    expect(((await stale.json()) as { code: string }).code).toBe('use_dpop_nonce');
    expect(stale.headers.get('dpop-nonce')).not.toBe(nonce);
  });
});
