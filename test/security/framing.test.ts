import { beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.ts';
import { TestIssuer } from '../helpers/issuer.ts';
import { WORKER_URL } from '../helpers/worker.ts';
import { Target } from './harness.ts';

let issuer: TestIssuer;
let token: string;
beforeAll(async () => {
  issuer = await TestIssuer.create();
  token = await issuer.mint();
});

function withAuthorization(...values: string[]): Request {
  const headers = new Headers();
  for (const value of values) headers.append('authorization', value);
  return new Request(`${WORKER_URL}/resource`, { headers });
}

describe('framing (RFC 6750 §2.1, §3)', () => {
  it.each<[string, () => Request, ErrorCode]>([
    ['no Authorization header', () => new Request(`${WORKER_URL}/resource`), 'missing_token'],
    ['an empty Authorization header', () => withAuthorization(''), 'malformed_authorization'],
    ['"Bearer" alone', () => withAuthorization('Bearer'), 'malformed_authorization'],
    ['two Bearer headers', () => withAuthorization(`Bearer ${token}`, `Bearer ${token}`), 'malformed_authorization'],
    [
      'a Basic and a Bearer header',
      () => withAuthorization('Basic eDp5', `Bearer ${token}`),
      'malformed_authorization',
    ],
    ['Basic', () => withAuthorization('Basic dXNlcjpwYXNz'), 'unsupported_scheme'],
    ['Digest', () => withAuthorization('Digest username="u", realm="r"'), 'unsupported_scheme'],
    ['DPoP', () => withAuthorization(`DPoP ${token}`), 'unsupported_scheme'],
    ['"Token" scheme', () => withAuthorization(`Token ${token}`), 'unsupported_scheme'],
    ['"Bearer:" with a colon', () => withAuthorization(`Bearer: ${token}`), 'malformed_authorization'],
    ['a tab after Bearer', () => withAuthorization(`Bearer\t${token}`), 'malformed_authorization'],
    [
      'a tab inside the token',
      () => withAuthorization(`Bearer ${token.slice(0, 10)}\t${token.slice(10)}`),
      'malformed_authorization',
    ],
    [
      'a space inside the token',
      () => withAuthorization(`Bearer ${token.slice(0, 10)} ${token.slice(10)}`),
      'malformed_authorization',
    ],
    ['a quoted token', () => withAuthorization(`Bearer "${token}"`), 'malformed_authorization'],
    [
      'a token in both the header and ?access_token',
      () =>
        new Request(`${WORKER_URL}/resource?access_token=${token}`, { headers: { authorization: `Bearer ${token}` } }),
      'malformed_authorization',
    ],
    [
      'a token only in ?access_token',
      () => new Request(`${WORKER_URL}/resource?access_token=${token}`),
      'missing_token',
    ],
    ['a 64 KB header', () => withAuthorization(`Bearer ${'a'.repeat(64 * 1024)}`), 'token_too_large'],
    ['a 1 MB header', () => withAuthorization(`Bearer ${'a'.repeat(1024 * 1024)}`), 'token_too_large'],
    ['a 64 KB header of another scheme', () => withAuthorization(`Basic ${'a'.repeat(64 * 1024)}`), 'token_too_large'],
  ])('refuses %s', async (_name, make, code) => {
    const target = new Target(issuer);
    await target.expectRefused(await target.send(make()), code);
    // Nothing about framing needs the keys.
    expect(target.fetched).toEqual([]);
  });

  it.each([
    ['lower-case "bearer"', 'bearer'],
    ['upper-case "BEARER"', 'BEARER'],
    ['several spaces after the scheme', 'Bearer   '],
  ])('accepts %s', async (_name, prefix) => {
    const target = new Target(issuer);
    const authorization = prefix.endsWith(' ') ? `${prefix}${token}` : `${prefix} ${token}`;
    await target.expectAccepted(await target.send(withAuthorization(authorization)));
  });
});
