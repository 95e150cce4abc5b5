import { beforeAll, describe, it } from 'vitest';
import { makeKey, TestIssuer } from '../helpers/issuer.ts';
import { b64url, claimsJson, fromB64url, rawToken, Target } from './harness.ts';

/** Order n of the P-256 group (SEC 2 §2.4.2): r or s equal to n must never verify. */
const P256_N = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';

const hex = (value: string) => Uint8Array.from(value.match(/../g) ?? [], (byte) => Number.parseInt(byte, 16));

/** ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`, the encoding JWS forbids for ECDSA (RFC 7518 §3.4). */
function derSignature(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = bytes.slice(start);
    const padded = (trimmed[0] as number) & 0x80 ? [0, ...trimmed] : [...trimmed];
    return [0x02, padded.length, ...padded];
  };
  const body = [...integer(raw.slice(0, 32)), ...integer(raw.slice(32))];
  return new Uint8Array([0x30, body.length, ...body]);
}

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.create(['ES256', 'RS256', 'EdDSA']);
});

describe('signature math', () => {
  const es = () => issuer.keys[0];
  const header = (alg = 'ES256', kid = es()?.kid) => JSON.stringify({ alg, kid });

  it.each<[string, () => Uint8Array]>([
    ['r = s = 0 (CVE-2022-21449)', () => new Uint8Array(64)],
    ['r = s = n', () => new Uint8Array([...hex(P256_N), ...hex(P256_N)])],
    ['r = n, s = 1', () => new Uint8Array([...hex(P256_N), ...new Uint8Array(31), 1])],
    ['63 bytes', () => new Uint8Array(63).fill(1)],
    ['65 bytes', () => new Uint8Array(65).fill(1)],
  ])('refuses an ES256 signature with %s', async (_name, signature) => {
    const target = new Target(issuer);
    const token = await rawToken(header(), claimsJson(issuer), b64url(signature()));
    await target.expectRefused(await target.sendToken(token), 'bad_signature');
  });

  it('refuses a DER-encoded ES256 signature of the right message', async () => {
    const target = new Target(issuer);
    const [h, p, s] = (await issuer.mint({ key: es() })).split('.') as [string, string, string];
    await target.expectRefused(
      await target.sendToken(`${h}.${p}.${b64url(derSignature(fromB64url(s)))}`),
      'bad_signature',
    );
  });

  it.each(['ES256', 'RS256', 'EdDSA'])('refuses a valid %s signature over a changed payload', async (alg) => {
    const key = issuer.keys.find((k) => k.alg === alg);
    const target = new Target(issuer);
    const [h, , s] = (await issuer.mint({ key })).split('.');
    const forged = b64url(claimsJson(issuer, { sub: 'admin' }));
    await target.expectRefused(await target.sendToken(`${h}.${forged}.${s}`), 'bad_signature');
  });

  it.each(['ES256', 'RS256', 'EdDSA'])('refuses a %s signature from another key under the same kid', async (alg) => {
    const key = issuer.keys.find((k) => k.alg === alg);
    const impostor = await makeKey(alg, key?.kid);
    const target = new Target(issuer);
    await target.expectRefused(await target.sendToken(await issuer.mint({ key: impostor })), 'bad_signature');
  });

  it.each<[string, string, () => Uint8Array]>([
    ['an all-zero RS256 signature', 'RS256', () => new Uint8Array(256)],
    ['an RS256 signature equal to the modulus', 'RS256', () => fromB64url(issuer.keys[1]?.publicJwk.n as string)],
    ['an all-zero EdDSA signature', 'EdDSA', () => new Uint8Array(64)],
  ])('refuses %s', async (_name, alg, signature) => {
    const key = issuer.keys.find((k) => k.alg === alg);
    const target = new Target(issuer);
    const token = await rawToken(header(alg, key?.kid), claimsJson(issuer), b64url(signature()));
    await target.expectRefused(await target.sendToken(token), 'bad_signature');
  });
});
