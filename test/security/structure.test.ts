import { beforeAll, describe, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.ts';
import { TestIssuer } from '../helpers/issuer.ts';
import { b64url, claimsJson, signedRaw, Target } from './harness.ts';

let issuer: TestIssuer;
let valid: string;
let header: string;
beforeAll(async () => {
  issuer = await TestIssuer.create();
  valid = await issuer.mint();
  header = JSON.stringify({ alg: 'RS256', kid: issuer.key.kid });
});

/** Replaces the last base64url character with one that differs only in the bits that encode nothing. */
function flipUnusedBits(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(segment.at(-1) as string);
  const unused = segment.length % 4 === 2 ? 0b1111 : 0b11;
  return segment.slice(0, -1) + alphabet[last | (unused & 0b1)];
}

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { n: value };
  return value;
}

describe('token structure', () => {
  const part = (i: number) => () => valid.split('.')[i] as string;
  const [h, p, s] = [part(0), part(1), part(2)];

  it.each<[string, () => Promise<string> | string, ErrorCode]>([
    ['one segment', () => h(), 'malformed_token'],
    ['two segments', () => `${h()}.${p()}`, 'malformed_token'],
    ['four segments', () => `${valid}.${s()}`, 'malformed_token'],
    // Five parts is the form of an encrypted token: refused, since no issuer here has decryption keys.
    ['a five-part JWE', () => `${h()}.${p()}.${s()}.${s()}.${s()}`, 'encrypted_token_not_accepted'],
    ['an empty header segment', () => `.${p()}.${s()}`, 'malformed_token'],
    ['an empty payload segment', () => `${h()}..${s()}`, 'malformed_token'],
    ['an empty signature segment', () => `${h()}.${p()}.`, 'malformed_token'],
    ['only dots', () => '..', 'malformed_token'],
    [
      '"+" and "/" (base64, not base64url)',
      () => `${h()}.${p()}.${s().replace(/-/g, '+').replace(/_/g, '/')}+/`,
      'malformed_token',
    ],
    ['padding inside the token', () => `${h()}.${p()}==.${s()}`, 'malformed_authorization'],
    ['padding on the signature', () => `${valid}==`, 'malformed_token'],
    ['a non-canonical signature encoding', () => `${h()}.${p()}.${flipUnusedBits(s())}`, 'malformed_token'],
    ['a segment of impossible length (4n+1)', () => `${h()}.${p()}.${s()}AAA`, 'malformed_token'],
    ['a JSON array header', () => signedRaw(issuer.key, '[]', claimsJson(issuer)), 'malformed_token'],
    ['a JSON string header', () => signedRaw(issuer.key, '"RS256"', claimsJson(issuer)), 'malformed_token'],
    ['a non-JSON header', () => `${b64url('alg=RS256')}.${p()}.${s()}`, 'malformed_token'],
    ['a null payload', () => signedRaw(issuer.key, header, 'null'), 'malformed_token'],
    ['an array payload', () => signedRaw(issuer.key, header, '[1]'), 'malformed_token'],
    ['a number payload', () => signedRaw(issuer.key, header, '42'), 'malformed_token'],
    [
      'invalid UTF-8 in a validly signed payload',
      async () => {
        const { keySigner } = await import('./harness.ts');
        const bytes = new Uint8Array([
          ...new TextEncoder().encode(claimsJson(issuer).slice(0, -1)),
          ...new TextEncoder().encode(',"x":"'),
          0xff,
          0xfe,
          ...new TextEncoder().encode('"}'),
        ]);
        const input = `${b64url(header)}.${b64url(bytes)}`;
        return `${input}.${b64url(await keySigner(issuer.key)(new TextEncoder().encode(input)))}`;
      },
      'malformed_token',
    ],
    [
      'a duplicate alg in the header',
      () => signedRaw(issuer.key, `{"alg":"RS256","kid":"${issuer.key.kid}","alg":"none"}`, claimsJson(issuer)),
      'malformed_token',
    ],
    [
      'a duplicate sub in the payload',
      () => signedRaw(issuer.key, header, `${claimsJson(issuer).slice(0, -1)},"sub":"admin"}`),
      'malformed_token',
    ],
    [
      'a duplicate member spelled with an escape',
      () => signedRaw(issuer.key, header, `${claimsJson(issuer).slice(0, -1)},"\\u0073ub":"admin"}`),
      'malformed_token',
    ],
    [
      'a duplicate member in a nested object',
      () =>
        signedRaw(
          issuer.key,
          header,
          claimsJson(issuer, { ext: 'PLACEHOLDER' }).replace('"PLACEHOLDER"', '{"a":1,"a":2}'),
        ),
      'malformed_token',
    ],
    [
      'deeply nested claims',
      () => signedRaw(issuer.key, header, claimsJson(issuer, { deep: nested(200) })),
      'malformed_token',
    ],
    [
      'JWS JSON serialization',
      () => JSON.stringify({ payload: p(), signatures: [{ protected: h(), signature: s() }] }),
      'malformed_authorization',
    ],
    [
      'JWS JSON serialization, base64url-wrapped',
      () => b64url(JSON.stringify({ payload: p(), protected: h(), signature: s() })),
      'malformed_token',
    ],
  ])('refuses %s', async (_name, make, code) => {
    const target = new Target(issuer);
    await target.expectRefused(await target.sendToken(await make()), code);
  });

  it('accepts the same keys with moderately nested, duplicate-free claims', async () => {
    const target = new Target(issuer);
    const token = await signedRaw(
      issuer.key,
      header,
      claimsJson(issuer, { ctx: nested(10), list: [{ a: 1 }, { a: 2 }] }),
    );
    await target.expectAccepted(await target.sendToken(token));
  });
});
