import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { keyFitsAlgorithm, unusableKeyReason } from '../src/keys/remote/key-policy.ts';
import { parseJwks } from '../src/keys/remote/parse-jwks.ts';
import { makeWeakRsaKey } from './helpers/issuer.ts';

let rsa: JWK;
let ec: JWK;
let ed: JWK;
beforeAll(async () => {
  rsa = await exportJWK((await generateKeyPair('RS256', { extractable: true })).publicKey);
  ec = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
  ed = await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).publicKey);
});

describe('which JWKS keys may be used', () => {
  it('accepts RSA-2048, P-256 and Ed25519 public keys', () => {
    expect(unusableKeyReason(rsa)).toBeUndefined();
    expect(unusableKeyReason(ec)).toBeUndefined();
    expect(unusableKeyReason(ed)).toBeUndefined();
  });

  it('refuses RSA keys under 2048 bits', async () => {
    const small = await makeWeakRsaKey();
    expect(unusableKeyReason(small.publicJwk)).toBe('RSA modulus too small');
    expect(unusableKeyReason(rsa)).toBeUndefined();
  });

  it.each<[string, () => JWK, string]>([
    ['a symmetric key', () => ({ kty: 'oct', k: 'c2VjcmV0' }), 'key has private or symmetric members'],
    ['a private RSA key', () => ({ ...rsa, d: 'AQAB' }), 'key has private or symmetric members'],
    ['an encryption key', () => ({ ...rsa, use: 'enc' }), 'key is not for signatures'],
    ['key_ops without verify', () => ({ ...rsa, key_ops: ['encrypt'] }), 'key_ops does not allow verify'],
    ['e = 1', () => ({ ...rsa, e: 'AQ' }), 'RSA public exponent is not 65537'],
    ['an unsupported alg', () => ({ ...rsa, alg: 'RS1' }), 'unsupported alg'],
    ['a non-string kid', () => ({ ...rsa, kid: 7 as unknown as string }), 'kid is not a string'],
    ['an EC key on an unknown curve', () => ({ ...ec, crv: 'secp256k1' }), 'unsupported EC curve'],
    ['an EC key with a short coordinate', () => ({ ...ec, x: 'AAAA' }), 'malformed EC key'],
    ['an X25519 key', () => ({ ...ed, crv: 'X25519' }), 'unsupported OKP curve'],
  ])('refuses %s', (_name, make, reason) => {
    expect(unusableKeyReason(make())).toBe(reason);
  });

  it('fits keys to algorithms by type, curve and alg', () => {
    expect(keyFitsAlgorithm(rsa, 'RS256')).toBe(true);
    expect(keyFitsAlgorithm(rsa, 'PS512')).toBe(true);
    expect(keyFitsAlgorithm(rsa, 'ES256')).toBe(false);
    expect(keyFitsAlgorithm({ ...rsa, alg: 'RS256' }, 'PS256')).toBe(false);
    expect(keyFitsAlgorithm(ec, 'ES256')).toBe(true);
    expect(keyFitsAlgorithm(ec, 'ES384')).toBe(false);
    expect(keyFitsAlgorithm(ed, 'EdDSA')).toBe(true);
    expect(keyFitsAlgorithm(ed, 'ES256')).toBe(false);
  });
});

describe('JWKS documents', () => {
  it('keeps usable keys reduced to public members and logs each skipped key', () => {
    const log = vi.fn();
    const keys = parseJwks(
      { keys: [{ ...rsa, kid: 'a', x5c: ['MII...'], ext: true }, { kty: 'oct', k: 'eA' }, 'junk'] },
      log,
    );
    expect(keys).toEqual([{ kty: 'RSA', kid: 'a', n: rsa.n, e: rsa.e }]);
    expect(log).toHaveBeenCalledTimes(2);
    expect(log).toHaveBeenCalledWith('jwks_key_skipped', { index: 1, reason: 'key has private or symmetric members' });
  });

  it.each([
    ['an array', []],
    ['null', null],
    ['no keys array', { keys: {} }],
    ['no usable key', { keys: [{ kty: 'oct', k: 'eA' }] }],
    ['too many keys', { keys: Array.from({ length: 101 }, () => ({ kty: 'RSA' })) }],
  ])('refuses %s', (_name, body) => {
    expect(() => parseJwks(body, () => {})).toThrow();
  });
});
