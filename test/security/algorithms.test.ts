import { exportSPKI } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.ts';
import { makeKey, TestIssuer, withAlg } from '../helpers/issuer.ts';
import { b64url, claimsJson, fromB64url, hmacSigner, rawToken, signedRaw, Target } from './harness.ts';

let issuer: TestIssuer;
let spkiPem: string;
beforeAll(async () => {
  issuer = await TestIssuer.create(['RS256']);
  const { importJWK } = await import('jose');
  spkiPem = await exportSPKI((await importJWK(issuer.key.publicJwk, 'RS256', { extractable: true })) as CryptoKey);
});

const text = (value: string) => new TextEncoder().encode(value);

/** The issuer's public key in every form an RS→HS key-confusion attacker might try as the HMAC secret. */
function publicKeyEncodings(): [string, () => Uint8Array][] {
  const spkiDer = () =>
    fromB64url(
      spkiPem
        .replace(/-----[A-Z ]+-----|\s/g, '')
        .replace(/\+/g, '-')
        .replace(/\//g, '_'),
    );
  // PKCS#1 RSAPublicKey is the SPKI's BIT STRING content: skip the 24-byte SPKI prefix of a 2048-bit key.
  const pkcs1Der = () => spkiDer().slice(24);
  const pkcs1Pem = () =>
    `-----BEGIN RSA PUBLIC KEY-----\n${(btoa(String.fromCharCode(...pkcs1Der())).match(/.{1,64}/g) ?? []).join('\n')}\n-----END RSA PUBLIC KEY-----\n`;
  return [
    ['SPKI PEM with trailing newline', () => text(spkiPem.endsWith('\n') ? spkiPem : `${spkiPem}\n`)],
    ['SPKI PEM without trailing newline', () => text(spkiPem.trimEnd())],
    ['PKCS#1 PEM', () => text(pkcs1Pem())],
    ['SPKI DER', spkiDer],
    ['PKCS#1 DER', pkcs1Der],
    ['JWK JSON', () => text(JSON.stringify(issuer.key.publicJwk))],
    ['raw modulus', () => fromB64url(issuer.key.publicJwk.n as string)],
  ];
}

describe('algorithm attacks', () => {
  const header = (alg: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ alg, kid: issuer.key.kid, ...extra });

  it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg "%s" without a signature', async (alg) => {
    const target = new Target(issuer);
    await target.expectRefused(
      await target.sendToken(await rawToken(header(alg), claimsJson(issuer))),
      'malformed_token',
    );
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('refuses alg "%s" with a signature', async (alg) => {
    const target = new Target(issuer);
    const token = await rawToken(header(alg), claimsJson(issuer), b64url('not-a-signature'));
    await target.expectRefused(await target.sendToken(token), 'alg_not_allowed');
  });

  it('refuses a stripped signature', async () => {
    const target = new Target(issuer);
    const [h, p] = (await issuer.mint()).split('.');
    await target.expectRefused(await target.sendToken(`${h}.${p}.`), 'malformed_token');
  });

  it('refuses a truncated signature', async () => {
    const target = new Target(issuer);
    const token = await issuer.mint();
    // Cut to a whole number of base64url quanta so that only the length is wrong.
    await target.expectRefused(await target.sendToken(token.slice(0, -2)), 'bad_signature');
  });

  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    it.each(publicKeyEncodings())(`refuses ${alg} signed with the issuer's public key as %s`, async (_name, secret) => {
      const target = new Target(issuer);
      const token = await rawToken(header(alg), claimsJson(issuer), hmacSigner(alg, secret()));
      await target.expectRefused(await target.sendToken(token), 'alg_not_allowed');
      // The allowlist stops it before any key is looked up.
      expect(target.fetched).toEqual([]);
    });
  }

  describe('an issuer with an hmac_secret (HS256 listed beside RS256)', () => {
    const SECRET = 'a-shared-secret-of-at-least-32-bytes-for-hs256';
    const withSecret = () =>
      new Target(issuer, {
        ALGORITHMS: 'RS256,HS256',
        HMAC_SECRET: 'SHARED_JWT_SECRET',
        SHARED_JWT_SECRET: SECRET,
      } as never);

    it.each(publicKeyEncodings())(
      'refuses HS256 signed with the public key as %s: the secret alone verifies HS*',
      async (_name, key) => {
        const target = withSecret();
        const token = await rawToken(header('HS256'), claimsJson(issuer), hmacSigner('HS256', key()));
        await target.expectRefused(await target.sendToken(token), 'bad_signature');
        // HS* never reaches the JWKS.
        expect(target.jwksFetches()).toBe(0);
      },
    );

    it('accepts HS256 signed with the secret, and RS256 from the JWKS only', async () => {
      const accepting = withSecret();
      const hs = await rawToken(header('HS256'), claimsJson(issuer), hmacSigner('HS256', text(SECRET)));
      expect((await accepting.sendToken(hs)).status).toBe(200);
      expect((await accepting.sendToken(await issuer.mint())).status).toBe(200);
      const target = withSecret();
      // An RS256 signature made with the secret as an HMAC is still an RS256 token: the JWKS decides.
      const rsWithSecret = await rawToken(header('RS256'), claimsJson(issuer), hmacSigner('HS256', text(SECRET)));
      await target.expectRefused(await target.sendToken(rsWithSecret), 'bad_signature');
      // HS384 is not listed: refused before any key.
      const hs384 = await rawToken(header('HS384'), claimsJson(issuer), hmacSigner('HS384', text(SECRET.repeat(2))));
      await target.expectRefused(await target.sendToken(hs384), 'alg_not_allowed');
    });
  });

  it.each<[string, Uint8Array]>([
    ['a blank secret', new Uint8Array([0])],
    ['"secret"', text('secret')],
    ['"password"', text('password')],
    ['the kid', text('')],
  ])('refuses HS256 with %s', async (_name, secret) => {
    const target = new Target(issuer);
    const key = secret.length ? secret : text(issuer.key.kid);
    const token = await rawToken(header('HS256'), claimsJson(issuer), hmacSigner('HS256', key));
    await target.expectRefused(await target.sendToken(token), 'alg_not_allowed');
  });

  it('refuses a header alg other than the JWK’s alg, even with a valid signature', async () => {
    const target = new Target(issuer);
    const ps = await withAlg(issuer.key, 'PS256');
    await target.expectRefused(await target.sendToken(await issuer.mint({ key: ps })), 'unknown_kid');
  });

  it('refuses another family’s alg for a JWK without alg', async () => {
    const noAlg = await TestIssuer.create(['RS256']);
    const { alg: _alg, ...jwk } = noAlg.key.publicJwk;
    await noAlg.publish({ keys: [jwk] });
    const target = new Target(noAlg);
    const ec = await makeKey('ES256', noAlg.key.kid);
    await target.expectRefused(await target.sendToken(await noAlg.mint({ key: ec })), 'unknown_kid');
  });

  it.each<[string, unknown, ErrorCode]>([
    ['"hs256"', 'hs256', 'alg_not_allowed'],
    ['"rs256" (wrong case)', 'rs256', 'alg_not_allowed'],
    ['"RS256 " (trailing space)', 'RS256 ', 'alg_not_allowed'],
    ['"" (empty)', '', 'malformed_token'],
    ['null', null, 'malformed_token'],
    ['an array', ['RS256'], 'malformed_token'],
    ['a number', 256, 'malformed_token'],
    ['missing', undefined, 'malformed_token'],
  ])('refuses alg %s', async (_name, alg, code) => {
    const target = new Target(issuer);
    const token = await signedRaw(issuer.key, header(alg), claimsJson(issuer));
    await target.expectRefused(await target.sendToken(token), code);
  });
});
