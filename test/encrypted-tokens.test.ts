import { CompactEncrypt, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DECRYPTED_TOKEN_CACHE_MAX_ENTRIES } from '../src/constants.ts';
import type { Env } from '../src/env.ts';
import { TestIssuer } from './helpers/issuer.ts';
import type { Echo } from './helpers/origin.ts';
import { TestOrigin } from './helpers/origin.ts';
import { bearer, ClockedGateway, parseChallenge, varsFor } from './helpers/worker.ts';

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

const SECRET = 'DECRYPTION_JWKS';

interface DecryptionKey {
  readonly kid: string;
  readonly alg: string;
  readonly publicKey: CryptoKey;
  readonly privateJwk: JWK;
}

async function decryptionKey(alg: string, kid = `${alg}-${crypto.randomUUID().slice(0, 8)}`): Promise<DecryptionKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg.startsWith('ECDH') ? { crv: 'P-256' } : {}),
  });
  return { kid, alg, publicKey, privateJwk: { ...(await exportJWK(privateKey)), kid } };
}

/** The inner signed token, encrypted to `key` as a nested JWT (RFC 7519 §5.2). */
function encrypt(inner: string, key: DecryptionKey, header: Record<string, unknown> = {}): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(inner))
    .setProtectedHeader({ alg: key.alg, enc: 'A256GCM', cty: 'JWT', kid: key.kid, ...header } as {
      alg: string;
      enc: string;
    })
    .encrypt(key.publicKey);
}

/** The same token under another protected header: what a client can send, whatever it decrypts to. */
function withHeader(jwe: string, header: Record<string, unknown>): string {
  const encoded = btoa(JSON.stringify(header)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
  return [encoded, ...jwe.split('.').slice(1)].join('.');
}

function gatewayWith(issuer: TestIssuer, keys: readonly DecryptionKey[] | undefined, extra: Partial<Env> = {}) {
  const vars = {
    ...varsFor(issuer, new TestOrigin(), keys ? { DECRYPTION_KEYS: SECRET, ...extra } : extra),
    ...(keys ? { [SECRET]: JSON.stringify({ keys: keys.map((key) => key.privateJwk) }) } : {}),
  } as Env;
  return new ClockedGateway(vars);
}

async function outcome(gateway: ClockedGateway, token: string): Promise<string> {
  const response = await gateway.call(bearer(token));
  if (response.status === 200) return 'ok';
  if (response.status === 401)
    expect(parseChallenge(response.headers.get('www-authenticate')).error).toBe('invalid_token');
  return ((await response.json()) as { code: string }).code;
}

describe('encrypted tokens (nested JWE)', () => {
  it('decrypts an RSA-OAEP-256 token and verifies the JWS inside; X-Auth-Claims is the inner payload segment', async () => {
    const issuer = await TestIssuer.create();
    const key = await decryptionKey('RSA-OAEP-256');
    const gateway = gatewayWith(issuer, [key]);
    const inner = await issuer.mint({ at: gateway.nowSeconds, claims: { sub: 'secret-user' } });
    const response = await gateway.call(bearer(await encrypt(inner, key)));
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Echo;
    expect(echo.headers['x-auth-subject']).toBe('secret-user');
    expect(echo.headers['x-auth-claims']).toBe(inner.split('.')[1]);
  });

  it('accepts every allowed key management with A128GCM and A256GCM', async () => {
    const issuer = await TestIssuer.create();
    const keys = await Promise.all(
      ['RSA-OAEP-256', 'ECDH-ES', 'ECDH-ES+A128KW', 'ECDH-ES+A256KW'].map((alg) => decryptionKey(alg)),
    );
    const gateway = gatewayWith(issuer, keys);
    for (const key of keys) {
      for (const enc of ['A128GCM', 'A256GCM']) {
        const token = await encrypt(await issuer.mint({ at: gateway.nowSeconds }), key, { enc });
        expect({ alg: key.alg, enc, outcome: await outcome(gateway, token) }).toEqual({
          alg: key.alg,
          enc,
          outcome: 'ok',
        });
      }
    }
  });

  it('accepts the cty of oidc-provider’s encrypted access tokens (at+jwt, application/at+jwt) as it does JWT', async () => {
    const issuer = await TestIssuer.create();
    const key = await decryptionKey('RSA-OAEP-256');
    const gateway = gatewayWith(issuer, [key]);
    for (const cty of ['at+jwt', 'application/at+jwt', 'application/jwt', 'jwt']) {
      const token = await encrypt(await issuer.mint({ at: gateway.nowSeconds }), key, { cty });
      expect({ cty, outcome: await outcome(gateway, token) }).toEqual({ cty, outcome: 'ok' });
    }
    const other = await encrypt(await issuer.mint({ at: gateway.nowSeconds }), key, { cty: 'at+json' });
    expect(await outcome(gateway, other)).toBe('encryption_not_allowed');
  });

  it('refuses an encrypted token when the route’s issuer has no decryption keys', async () => {
    const issuer = await TestIssuer.create();
    const key = await decryptionKey('RSA-OAEP-256');
    const gateway = gatewayWith(issuer, undefined);
    const token = await encrypt(await issuer.mint({ at: gateway.nowSeconds }), key);
    expect(await outcome(gateway, token)).toBe('encrypted_token_not_accepted');
  });

  it('refuses a token encrypted to another key, also under a kid it knows', async () => {
    const issuer = await TestIssuer.create();
    const key = await decryptionKey('RSA-OAEP-256', 'enc-1');
    const impostor = await decryptionKey('RSA-OAEP-256', 'enc-1');
    const gateway = gatewayWith(issuer, [key]);
    const inner = await issuer.mint({ at: gateway.nowSeconds });
    expect(await outcome(gateway, await encrypt(inner, impostor))).toBe('decryption_failed');
    expect(await outcome(gateway, await encrypt(inner, { ...key, kid: 'unknown' }))).toBe('decryption_failed');
  });

  it('refuses zip, PBES2, RSA1_5, dir, other encryptions and a cty that is not JWT before any decryption work', async () => {
    const issuer = await TestIssuer.create();
    const key = await decryptionKey('RSA-OAEP-256');
    const gateway = gatewayWith(issuer, [key]);
    const jwe = await encrypt(await issuer.mint({ at: gateway.nowSeconds }), key);
    const base = { alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', kid: key.kid };
    const work = [
      vi.spyOn(crypto.subtle, 'decrypt'),
      vi.spyOn(crypto.subtle, 'deriveBits'),
      vi.spyOn(crypto.subtle, 'importKey'),
    ];
    for (const header of [
      { ...base, zip: 'DEF' },
      // A hostile p2c would cost ten million PBKDF2 rounds if anything ran it.
      { ...base, alg: 'PBES2-HS256+A128KW', p2c: 10_000_000, p2s: 'AAAAAAAAAAAAAAAAAAAAAA' },
      { ...base, alg: 'RSA1_5' },
      { ...base, alg: 'dir' },
      { ...base, alg: 'A256KW' },
      { ...base, enc: 'A128CBC-HS256' },
      { ...base, cty: undefined },
      { ...base, cty: 'json' },
      { ...base, crit: ['exp'], exp: 1 },
    ]) {
      expect({ header, outcome: await outcome(gateway, withHeader(jwe, header)) }).toEqual({
        header,
        outcome: 'encryption_not_allowed',
      });
    }
    for (const spy of work) expect(spy).not.toHaveBeenCalled();
    // The untouched token still decrypts: the refusals came from the headers alone.
    expect(await outcome(gateway, jwe)).toBe('ok');
  });

  it('decrypts with either key of a rotation, and not with a key dropped from the secret', async () => {
    const issuer = await TestIssuer.create();
    const [old, current] = [
      await decryptionKey('RSA-OAEP-256', 'enc-old'),
      await decryptionKey('ECDH-ES+A256KW', 'enc-new'),
    ];
    const both = gatewayWith(issuer, [old, current]);
    const inner = await issuer.mint({ at: both.nowSeconds });
    expect(await outcome(both, await encrypt(inner, old))).toBe('ok');
    expect(await outcome(both, await encrypt(inner, current))).toBe('ok');
    // The same isolate, with the secret rotated to the new key only.
    const rotated = gatewayWith(issuer, [current]);
    expect(await outcome(rotated, await encrypt(inner, old))).toBe('decryption_failed');
    expect(await outcome(rotated, await encrypt(inner, current))).toBe('ok');
  });

  it('verifies the inner token exactly as a plain one: its signature, its time, its issuer', async () => {
    const issuer = await TestIssuer.create();
    const other = await TestIssuer.create();
    const key = await decryptionKey('RSA-OAEP-256');
    const gateway = gatewayWith(issuer, [key]);
    const at = gateway.nowSeconds;
    const forged = `${(await issuer.mint({ at })).slice(0, -4)}AAAA`;
    expect(await outcome(gateway, await encrypt(forged, key))).toBe('bad_signature');
    expect(await outcome(gateway, await encrypt(await issuer.mint({ at: at - 3_600 }), key))).toBe('token_expired');
    expect(await outcome(gateway, await encrypt(await other.mint({ at }), key))).toBe('wrong_issuer');
    expect(await outcome(gateway, await encrypt('not a token', key))).toBe('malformed_token');
    // A JWE inside the JWE is not unwrapped twice.
    const twice = await encrypt(await encrypt(await issuer.mint({ at }), key), key);
    expect(await outcome(gateway, twice)).toBe('malformed_token');
  });

  it('decrypts a token it has seen once: its next uses cost no private-key operation', async () => {
    const issuer = await TestIssuer.create();
    const key = await decryptionKey('RSA-OAEP-256');
    const gateway = gatewayWith(issuer, [key]);
    const token = await encrypt(await issuer.mint({ at: gateway.nowSeconds }), key);
    const decrypt = vi.spyOn(crypto.subtle, 'decrypt');
    for (let i = 0; i < 5; i++) expect(await outcome(gateway, token)).toBe('ok');
    // RSA-OAEP for the content key, then AES-GCM for the content: one decryption, two calls.
    expect(decrypt).toHaveBeenCalledTimes(2);
  });

  it('forgets what it decrypted with a secret that changed: a dropped key opens nothing, not even from memory', async () => {
    const issuer = await TestIssuer.create();
    const [old, current] = [
      await decryptionKey('RSA-OAEP-256', 'enc-old'),
      await decryptionKey('RSA-OAEP-256', 'enc-new'),
    ];
    const gateway = gatewayWith(issuer, [old, current]);
    const token = await encrypt(await issuer.mint({ at: gateway.nowSeconds }), old);
    expect(await outcome(gateway, token)).toBe('ok');
    (gateway.vars as unknown as Record<string, string>)[SECRET] = JSON.stringify({ keys: [current.privateJwk] });
    expect(await outcome(gateway, token)).toBe('decryption_failed');
  });

  it(`remembers at most ${DECRYPTED_TOKEN_CACHE_MAX_ENTRIES} decrypted tokens, dropping the oldest`, async () => {
    const issuer = await TestIssuer.create();
    const key = await decryptionKey('ECDH-ES');
    const gateway = gatewayWith(issuer, [key]);
    const inner = await issuer.mint({ at: gateway.nowSeconds });
    // ECDH-ES encryptions of one token differ (a fresh ephemeral key each): so many distinct tokens.
    const tokens = await Promise.all(
      Array.from({ length: DECRYPTED_TOKEN_CACHE_MAX_ENTRIES + 1 }, () => encrypt(inner, key)),
    );
    for (const token of tokens) expect(await outcome(gateway, token)).toBe('ok');
    const derive = vi.spyOn(crypto.subtle, 'deriveBits');
    // The newest is remembered; the first one was dropped to make room, and is decrypted again.
    expect(await outcome(gateway, tokens.at(-1) as string)).toBe('ok');
    expect(derive).not.toHaveBeenCalled();
    expect(await outcome(gateway, tokens[0] as string)).toBe('ok');
    expect(derive).toHaveBeenCalled();
  });

  it('decrypts a kid-less token with the one key that fits', async () => {
    const issuer = await TestIssuer.create();
    const key = await decryptionKey('RSA-OAEP-256');
    const gateway = gatewayWith(issuer, [key]);
    const token = await encrypt(await issuer.mint({ at: gateway.nowSeconds }), key, { kid: undefined });
    expect(await outcome(gateway, token)).toBe('ok');
  });

  it('answers 500 config_invalid, naming the secret, when it is missing or not a JWKS of private keys', async () => {
    const issuer = await TestIssuer.create();
    const key = await decryptionKey('RSA-OAEP-256');
    const token = async (gateway: ClockedGateway) => encrypt(await issuer.mint({ at: gateway.nowSeconds }), key);
    for (const secret of [undefined, 'not json', JSON.stringify({ keys: [{ kty: 'RSA', n: 'x', e: 'AQAB' }] })]) {
      const gateway = new ClockedGateway({
        ...varsFor(issuer, new TestOrigin(), { DECRYPTION_KEYS: SECRET }),
        ...(secret === undefined ? {} : { [SECRET]: secret }),
      } as Env);
      const response = await gateway.call(bearer(await token(gateway)));
      expect(response.status).toBe(500);
      const body = (await response.json()) as { code: string; detail?: string };
      expect(body.code).toBe('config_invalid');
      expect(body.detail).toContain(SECRET);
    }
  });
});
