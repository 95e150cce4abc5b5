import { beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.ts';
import { AUDIENCE, TestIssuer } from '../helpers/issuer.ts';
import { claimsJson, signedRaw, Target } from './harness.ts';

let issuer: TestIssuer;
let header: string;
beforeAll(async () => {
  issuer = await TestIssuer.create(['RS256']);
  header = JSON.stringify({ alg: 'RS256', kid: issuer.key.kid });
});

const now = () => Math.floor(Date.now() / 1000);

/** A validly signed token whose claims JSON has `fragment` spliced in verbatim (for forms JSON.stringify cannot make). */
function withRawClaim(name: string, rawValue: string): Promise<string> {
  return signedRaw(issuer.key, header, claimsJson(issuer, { [name]: '__RAW__' }).replace('"__RAW__"', rawValue));
}

describe('claim attacks', () => {
  it.each<[string, string, string, ErrorCode]>([
    ['exp as a numeric string', 'exp', '"9999999999"', 'invalid_claims'],
    ['exp null', 'exp', 'null', 'invalid_claims'],
    ['exp true', 'exp', 'true', 'invalid_claims'],
    ['exp as an array', 'exp', '[9999999999]', 'invalid_claims'],
    ['exp 1e400 (Infinity)', 'exp', '1e400', 'invalid_claims'],
    ['exp negative', 'exp', '-1', 'token_expired'],
    ['exp 0', 'exp', '0', 'token_expired'],
    ['nbf as a numeric string', 'nbf', '"0"', 'invalid_claims'],
    ['nbf null', 'nbf', 'null', 'invalid_claims'],
    ['nbf 1e400 (Infinity)', 'nbf', '1e400', 'token_not_yet_valid'],
    ['nbf far in the future', 'nbf', '9999999999', 'token_not_yet_valid'],
    ['iat as a string', 'iat', '"now"', 'invalid_claims'],
    ['iat -1e400', 'iat', '-1e400', 'invalid_claims'],
    ['iat far in the future', 'iat', '9999999999', 'token_not_yet_valid'],
  ])('refuses %s', async (_name, claim, raw, code) => {
    const target = new Target(issuer);
    await target.expectRefused(await target.sendToken(await withRawClaim(claim, raw)), code);
  });

  it('accepts a huge but finite exp (the issuer chose it)', async () => {
    const target = new Target(issuer);
    await target.expectAccepted(await target.sendToken(await withRawClaim('exp', '1e300')));
  });

  it.each<[string, () => unknown]>([
    ['a substring', () => issuer.url.slice(0, -3)],
    ['a prefix match', () => `${issuer.url}-evil`],
    ['a trailing slash', () => `${issuer.url}/`],
    ['other case', () => issuer.url.replace('http', 'HTTP')],
    ['an array holding it', () => [issuer.url]],
    ['missing', () => undefined],
    ['a number', () => 1],
    ['a host suffix', () => issuer.url.replace('127.0.0.1', '127.0.0.1.evil.example')],
  ])('refuses iss as %s', async (_name, iss) => {
    const target = new Target(issuer);
    const token = await signedRaw(issuer.key, header, claimsJson(issuer, { iss: iss() }));
    await target.expectRefused(await target.sendToken(token), 'wrong_issuer');
  });

  it.each<[string, unknown, ErrorCode]>([
    ['missing', undefined, 'wrong_audience'],
    ['empty', '', 'wrong_audience'],
    ['an empty array', [], 'wrong_audience'],
    ['a number', 42, 'wrong_audience'],
    ['an object', { aud: AUDIENCE }, 'wrong_audience'],
    ['an array of non-strings', [1, null], 'wrong_audience'],
    ['a substring', AUDIENCE.slice(0, -1), 'wrong_audience'],
    ['a comma list', `${AUDIENCE},other`, 'wrong_audience'],
  ])('refuses aud %s', async (_name, aud, code) => {
    const target = new Target(issuer);
    const token = await signedRaw(issuer.key, header, claimsJson(issuer, { aud }));
    await target.expectRefused(await target.sendToken(token), code);
  });

  it.each<[string, Record<string, unknown>]>([
    ['readwrite', { scope: 'readwrite' }],
    ['READ', { scope: 'READ' }],
    ['read,admin', { scope: 'read,admin' }],
    ['read with a tab', { scope: 'read\tadmin' }],
    ['an array item holding two scopes', { scope: ['read admin'] }],
    ['a non-string array item', { scope: undefined, scp: [1, true, { read: true }] }],
    ['an empty string', { scope: '' }],
    ['scope as an object', { scope: { read: true } }],
    ['the scope in a claim that is not a scope claim', { scope: undefined, roles: ['read'] }],
  ])('a token with %s does not satisfy "read"', async (_name, claims) => {
    const target = new Target(issuer, { REQUIRED_SCOPES: 'read' });
    const token = await signedRaw(issuer.key, header, claimsJson(issuer, claims));
    await target.expectRefused(await target.sendToken(token), 'insufficient_scope');
  });

  // Changed on purpose: `scp` as a string (Microsoft Entra) and `scope` as an array now grant,
  // by one rule for both claims (a space-delimited string or an array of strings).
  it.each<[string, Record<string, unknown>]>([
    ['scope as an array', { scope: ['read'] }],
    ['scp as a string', { scope: undefined, scp: 'write read' }],
  ])('a token with %s satisfies "read"', async (_name, claims) => {
    const target = new Target(issuer, { REQUIRED_SCOPES: 'read' });
    const token = await signedRaw(issuer.key, header, claimsJson(issuer, claims));
    expect((await target.sendToken(token)).status).toBe(200);
  });

  it('reports a token both expired and badly signed as a bad signature', async () => {
    const target = new Target(issuer);
    const expired = await issuer.mint({ at: now() - 7200 });
    await target.expectRefused(await target.sendToken(`${expired.slice(0, -8)}AAAAAAAA`), 'bad_signature');
  });
});
