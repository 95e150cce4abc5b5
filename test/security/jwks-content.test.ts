import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { JWKS_MAX_KEYS } from '../../src/constants.ts';
import { makeKey, makeWeakRsaKey, TestIssuer, type TestKey } from '../helpers/issuer.ts';
import { b64url, claimsJson, rawToken, signedRaw, Target } from './harness.ts';

/** An issuer serving `good` plus whatever `extra` keys a broken or hostile JWKS holds. */
async function issuerWith(extra: JWK[]): Promise<{ issuer: TestIssuer; good: TestKey }> {
  const issuer = await TestIssuer.create(['RS256']);
  await issuer.publish({ keys: [issuer.key.publicJwk, ...extra] });
  return { issuer, good: issuer.key };
}

async function expectGoodKeyStillWorks(target: Target): Promise<void> {
  await target.expectAccepted(await target.sendToken(await target.issuer.mint({ at: target.nowSeconds })));
}

describe('hostile or broken JWKS content', () => {
  it('uses the first fitting key when two keys share a kid', async () => {
    const other = await makeKey('RS256');
    const { issuer, good } = await issuerWith([{ ...other.publicJwk, kid: '' }]);
    await issuer.publish({ keys: [good.publicJwk, { ...other.publicJwk, kid: good.kid }] });
    const target = new Target(issuer);
    await expectGoodKeyStillWorks(target);
    await target.expectRefused(
      await target.sendToken(await issuer.mint({ key: { ...other, kid: good.kid } })),
      'bad_signature',
    );
  });

  it('never uses a symmetric key, even for a token signed with it', async () => {
    const { issuer } = await issuerWith([{ kty: 'oct', kid: 'shared', k: b64url('secret'), alg: 'HS256' }]);
    const target = new Target(issuer);
    const { hmacSigner } = await import('./harness.ts');
    const token = await rawToken(
      JSON.stringify({ alg: 'HS256', kid: 'shared' }),
      claimsJson(issuer),
      hmacSigner('HS256', new TextEncoder().encode('secret')),
    );
    await target.expectRefused(await target.sendToken(token), 'alg_not_allowed');
    await expectGoodKeyStillWorks(target);
    expect(target.logLines.some((line) => line.includes('jwks_key_skipped'))).toBe(true);
  });

  it.each<[string, (key: TestKey) => JWK]>([
    ['use "enc"', (key) => ({ ...key.publicJwk, use: 'enc' })],
    ['key_ops without verify', (key) => ({ ...key.publicJwk, use: undefined, key_ops: ['encrypt', 'wrapKey'] })],
    ['private members', (key) => ({ ...key.publicJwk, d: 'AQAB', p: 'AQAB', q: 'AQAB' })],
  ])('refuses tokens signed by a key with %s', async (_name, publish) => {
    const bad = await makeKey('RS256');
    const { issuer } = await issuerWith([publish(bad)]);
    const target = new Target(issuer);
    await target.expectRefused(await target.sendToken(await issuer.mint({ key: bad })), 'unknown_kid');
    await expectGoodKeyStillWorks(target);
  });

  it('refuses tokens signed by an RSA-1024 key', async () => {
    const small = await makeWeakRsaKey();
    const { issuer } = await issuerWith([small.publicJwk]);
    const target = new Target(issuer);
    const token = await signedRaw(small, JSON.stringify({ alg: 'RS256', kid: small.kid }), claimsJson(issuer));
    await target.expectRefused(await target.sendToken(token), 'unknown_kid');
  });

  it('refuses a forgery against an e=1 key (the signature is the padded digest itself)', async () => {
    const modulus = new Uint8Array(256).fill(0xff);
    const { issuer } = await issuerWith([{ kty: 'RSA', kid: 'e1', alg: 'RS256', n: b64url(modulus), e: 'AQ' }]);
    const target = new Target(issuer);
    const token = await rawToken(JSON.stringify({ alg: 'RS256', kid: 'e1' }), claimsJson(issuer), async (input) => {
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input));
      const digestInfo = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
        0x20,
      ];
      const em = new Uint8Array(256).fill(0xff);
      em[0] = 0;
      em[1] = 1;
      em.set([0, ...digestInfo, ...digest], 256 - 1 - digestInfo.length - 32);
      return em;
    });
    await target.expectRefused(await target.sendToken(token), 'unknown_kid');
  });

  it('skips a key with an oversized modulus', async () => {
    const huge = new Uint8Array(2048).fill(0xc3);
    const { issuer } = await issuerWith([{ kty: 'RSA', kid: 'huge', n: b64url(huge), e: 'AQAB' }]);
    const target = new Target(issuer);
    const token = await rawToken(JSON.stringify({ alg: 'RS256', kid: 'huge' }), claimsJson(issuer), b64url(huge));
    await target.expectRefused(await target.sendToken(token), 'unknown_kid');
    await expectGoodKeyStillWorks(target);
  });

  it('refuses a key whose EC point is not on the curve', async () => {
    const ec = await makeKey('ES256');
    const offCurve = { ...ec.publicJwk, y: b64url(new Uint8Array(32).fill(7)) };
    const { issuer } = await issuerWith([offCurve]);
    const target = new Target(issuer);
    await target.expectRefused(await target.sendToken(await issuer.mint({ key: ec })), 'unknown_kid');
    await expectGoodKeyStillWorks(target);
  });

  it('refuses a key whose crv does not match its alg', async () => {
    const p384 = await makeKey('ES384');
    const { issuer } = await issuerWith([{ ...p384.publicJwk, alg: 'ES256' }]);
    const target = new Target(issuer);
    const token = await signedRaw(
      { ...p384, alg: 'ES256' },
      JSON.stringify({ alg: 'ES256', kid: p384.kid }),
      claimsJson(issuer),
    ).catch(() => issuer.mint({ key: p384, header: { alg: 'ES256' } }));
    await target.expectRefused(await target.sendToken(token), 'unknown_kid');
  });

  it.each<[string, (keys: JWK[]) => unknown]>([
    ['a 10 MB JWKS', (keys) => ({ keys, padding: 'x'.repeat(10 * 1024 * 1024) })],
    ['a JWKS with 10,000 keys', (keys) => ({ keys: Array.from({ length: 10_000 }, () => keys[0]) })],
  ])('refuses %s and keeps the keys it had', async (_name, document) => {
    const issuer = await TestIssuer.create(['RS256']);
    const target = new Target(issuer);
    await expectGoodKeyStillWorks(target);
    await issuer.publish(document(issuer.keys.map((k) => k.publicJwk)));
    target.advance(31);
    await target.expectRefused(
      await target.sendToken(await issuer.mint({ at: target.nowSeconds, header: { kid: 'rotated' } })),
      'unknown_kid',
    );
    expect(target.jwksFetches()).toBe(2);
    await expectGoodKeyStillWorks(target);
    expect(target.logLines.some((line) => line.includes('jwks_refresh_failed'))).toBe(true);
  });

  /** The good key, then one usable EC key under kids `ec-0`, `ec-1`, …: `total` usable keys in all. */
  async function publishUsableKeys(issuer: TestIssuer, total: number): Promise<TestKey> {
    const ec = await makeKey('ES256');
    const copies = Array.from({ length: total - 1 }, (_, i) => ({ ...ec.publicJwk, kid: `ec-${i}` }));
    await issuer.publish({ keys: [issuer.key.publicJwk, ...copies] });
    return ec;
  }

  it(`accepts a JWKS of exactly ${JWKS_MAX_KEYS} usable keys`, async () => {
    const issuer = await TestIssuer.create(['RS256']);
    const target = new Target(issuer);
    await expectGoodKeyStillWorks(target);
    const ec = await publishUsableKeys(issuer, JWKS_MAX_KEYS);
    target.advance(31);
    const last = `ec-${JWKS_MAX_KEYS - 2}`;
    await target.expectAccepted(await target.sendToken(await issuer.mint({ key: { ...ec, kid: last } })));
    expect(target.jwksFetches()).toBe(2);
  });

  it(`refuses a JWKS of ${JWKS_MAX_KEYS + 1} usable keys as a whole and keeps the keys it had`, async () => {
    const issuer = await TestIssuer.create(['RS256']);
    const target = new Target(issuer);
    await expectGoodKeyStillWorks(target);
    const ec = await publishUsableKeys(issuer, JWKS_MAX_KEYS + 1);
    // The first of the extra keys: a set cut down to its first keys would still hold it.
    target.advance(31);
    await target.expectRefused(
      await target.sendToken(await issuer.mint({ key: { ...ec, kid: 'ec-0' } })),
      'unknown_kid',
    );
    target.advance(31);
    const last = `ec-${JWKS_MAX_KEYS - 1}`;
    await target.expectRefused(await target.sendToken(await issuer.mint({ key: { ...ec, kid: last } })), 'unknown_kid');
    expect(target.jwksFetches()).toBe(3);
    await expectGoodKeyStillWorks(target);
    const failures = target.logLines.filter((line) => line.includes('jwks_refresh_failed'));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toContain(`more than ${JWKS_MAX_KEYS} keys`);
  });
});
