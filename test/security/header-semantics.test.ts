import { beforeAll, describe, it } from 'vitest';
import { TestIssuer } from '../helpers/issuer.ts';
import { claimsJson, signedRaw, Target } from './harness.ts';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.create(['RS256']);
});

describe('header semantics (RFC 7515 §4.1.11, RFC 7797)', () => {
  it.each<[string, Record<string, unknown>]>([
    ['an unknown crit extension', { crit: ['urn:example:unknown'], 'urn:example:unknown': true }],
    ['crit naming a registered claim', { crit: ['exp'], exp: 1 }],
    ['crit naming alg', { crit: ['alg'] }],
    ['crit naming an absent parameter', { crit: ['http://example.invalid/ext'] }],
    ['an empty crit', { crit: [] }],
    ['a crit string instead of an array', { crit: 'b64' }],
    ['a crit with a non-string member', { crit: [1] }],
    ['b64 false under crit', { b64: false, crit: ['b64'] }],
  ])('refuses %s', async (_name, extra) => {
    const target = new Target(issuer);
    const header = JSON.stringify({ alg: 'RS256', kid: issuer.key.kid, ...extra });
    await target.expectRefused(
      await target.sendToken(await signedRaw(issuer.key, header, claimsJson(issuer))),
      'malformed_token',
    );
  });

  it('refuses b64 false without crit as well', async () => {
    const target = new Target(issuer);
    const header = JSON.stringify({ alg: 'RS256', kid: issuer.key.kid, b64: false });
    await target.expectRefused(
      await target.sendToken(await signedRaw(issuer.key, header, claimsJson(issuer))),
      'malformed_token',
    );
  });
});
