import { SignJWT } from 'jose';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../../src/env.ts';
import { AUDIENCE, TestIssuer } from '../helpers/issuer.ts';
import { type Echo, TestOrigin } from '../helpers/origin.ts';
import { policyVars } from '../helpers/policy.ts';
import { bearer, callWorker } from '../helpers/worker.ts';

/** Supabase's legacy shape: HS256 with the project's JWT secret, `aud: authenticated`, `role`. */
const ISSUER = 'https://abcdefghijklmnop.supabase.co/auth/v1';
const SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

let jwks: TestIssuer;
beforeAll(async () => {
  jwks = await TestIssuer.create(['ES256']);
});

function hs(secret: string, claims: Record<string, unknown> = {}, alg = 'HS256', kid?: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    role: 'authenticated',
    iat: now,
    exp: now + 300,
    ...claims,
  })
    .setProtectedHeader({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })
    .sign(new TextEncoder().encode(secret));
}

function vars(
  origin: TestOrigin,
  issuer: Record<string, unknown>,
  secrets: Record<string, string> = { SUPABASE_JWT_SECRET: SECRET },
): Env {
  return policyVars(
    {
      issuers: {
        supabase: {
          issuer: ISSUER,
          audiences: [AUDIENCE],
          algorithms: ['HS256'],
          hmac_secret: 'SUPABASE_JWT_SECRET',
          ...issuer,
        },
      },
      routes: [{ path: '/*', access: 'required' }],
      origin: origin.url,
    },
    secrets,
  );
}

async function outcome(response: Response): Promise<string> {
  return response.status === 200 ? 'ok' : `${response.status} ${((await response.json()) as { code: string }).code}`;
}

describe('hmac_secret (HS256/384/512 with a shared secret)', () => {
  it('accepts an HS256 token signed with the secret, and fetches nothing when no asymmetric algorithm is listed', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(bearer(await hs(SECRET)), vars(origin, { jwks_uri: jwks.jwksUri }));
    expect(response.status).toBe(200);
    expect(((await response.json()) as Echo).headers['x-auth-subject']).toBe('user-1');
    expect((await jwks.stats()).jwksFetches).toBe(0);
  });

  it('refuses a token signed with another secret, an HS384 token where only HS256 is listed, and ignores a kid', async () => {
    const origin = new TestOrigin();
    const v = vars(origin, {});
    expect(await outcome(await callWorker(bearer(await hs(`${SECRET}-other`)), v))).toBe('401 bad_signature');
    expect(await outcome(await callWorker(bearer(await hs(SECRET.repeat(2), {}, 'HS384')), v))).toBe(
      '401 alg_not_allowed',
    );
    expect(await outcome(await callWorker(bearer(await hs(SECRET, {}, 'HS256', 'any-kid')), v))).toBe('ok');
  });

  it('refuses every HS* token on an issuer without hmac_secret, as before', async () => {
    const origin = new TestOrigin();
    const v = policyVars({
      issuers: { supabase: { issuer: ISSUER, audiences: [AUDIENCE], jwks_uri: jwks.jwksUri } },
      routes: [{ path: '/*', access: 'required' }],
      origin: origin.url,
    });
    expect(await outcome(await callWorker(bearer(await hs(SECRET)), v))).toBe('401 alg_not_allowed');
  });

  it('trusts both the secret and the JWKS during a migration, each for its own algorithms', async () => {
    const origin = new TestOrigin();
    const v = vars(origin, { issuer: jwks.url, algorithms: ['HS256', 'ES256'], jwks_uri: jwks.jwksUri });
    expect(await outcome(await callWorker(bearer(await hs(SECRET, { iss: jwks.url })), v))).toBe('ok');
    expect(await outcome(await callWorker(bearer(await jwks.mint()), v))).toBe('ok');
  });

  it('answers 500 config_invalid naming the secret, never echoing it, when it is missing or shorter than the hash', async () => {
    const origin = new TestOrigin();
    for (const [secrets, alg, token] of [
      [{}, 'HS256', await hs(SECRET)],
      [{ SUPABASE_JWT_SECRET: 'too-short-secret' }, 'HS256', await hs('too-short-secret')],
      [{ SUPABASE_JWT_SECRET: SECRET }, 'HS512', await hs(SECRET, {}, 'HS512')],
    ] as const) {
      const response = await callWorker(bearer(token), vars(origin, { algorithms: [alg] }, secrets));
      expect(response.status).toBe(500);
      const body = await response.text();
      expect(JSON.parse(body)).toMatchObject({ code: 'config_invalid' });
      expect(body).toContain('SUPABASE_JWT_SECRET');
      expect(body).not.toContain('too-short-secret');
      expect(body).not.toContain(SECRET);
    }
    expect(await origin.hits()).toBe(0);
  });

  it('a rotated secret stops the old tokens at once, cached ones included', async () => {
    const origin = new TestOrigin();
    const token = await hs(SECRET);
    const before = vars(origin, {});
    for (let i = 0; i < 3; i++) expect(await outcome(await callWorker(bearer(token), before))).toBe('ok');
    const rotated = { ...before, SUPABASE_JWT_SECRET: `${SECRET}-rotated` } as Env;
    expect(await outcome(await callWorker(bearer(token), rotated))).toBe('401 bad_signature');
  });

  it('works from the flat variables with HMAC_SECRET and ALGORITHMS', async () => {
    const origin = new TestOrigin();
    const flat = {
      ISSUER,
      AUDIENCE,
      ORIGIN: origin.url,
      ALGORITHMS: 'HS256',
      HMAC_SECRET: 'SUPABASE_JWT_SECRET',
      SUPABASE_JWT_SECRET: SECRET,
    };
    expect(await outcome(await callWorker(bearer(await hs(SECRET)), flat as Env))).toBe('ok');
  });
});
