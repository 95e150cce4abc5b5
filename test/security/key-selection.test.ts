import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { ErrorCode } from '../../src/errors.ts';
import { makeKey, TestIssuer, type TestKey } from '../helpers/issuer.ts';
import { claimsJson, signedRaw, Target } from './harness.ts';

let issuer: TestIssuer;
let attacker: TestKey;
/** A loopback server that would serve the attacker's keys, and counts who asks. */
let attackerHost: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.create(['RS256']);
  attacker = await makeKey('RS256', issuer.key.kid);
  attackerHost = await TestIssuer.create(['RS256']);
  attackerHost.keys = [attacker];
  await attackerHost.publish();
});

async function attackerRequests(): Promise<number> {
  const stats = await attackerHost.stats();
  return stats.jwksFetches + stats.discoveryFetches;
}

describe('key selection attacks', () => {
  const attackerJwks = () => `${inject('issuerUrl')}/t/${attackerHost.id}/jwks`;
  it.each<[string, () => Record<string, unknown>, ErrorCode]>([
    ['an embedded jwk under the issuer’s kid', () => ({ jwk: attacker.publicJwk }), 'bad_signature'],
    ['an embedded jwk and no kid', () => ({ jwk: attacker.publicJwk, kid: undefined }), 'bad_signature'],
    [
      'an embedded jwk with its own kid',
      () => ({ jwk: { ...attacker.publicJwk, kid: 'evil' }, kid: 'evil' }),
      'unknown_kid',
    ],
    ['a jku pointing at the attacker', () => ({ jku: attackerJwks() }), 'bad_signature'],
    ['a jku and an unknown kid', () => ({ jku: attackerJwks(), kid: 'evil' }), 'unknown_kid'],
    ['an x5u pointing at the attacker', () => ({ x5u: attackerJwks() }), 'bad_signature'],
    ['an x5c chain', () => ({ x5c: ['MIIBszCCAVmgAwIBAgIUY29uZnVzaW9u'] }), 'bad_signature'],
    ['an x5t thumbprint', () => ({ x5t: 'dGh1bWJwcmludA', kid: undefined }), 'bad_signature'],
  ])('ignores %s', async (_name, headerExtra, code) => {
    const target = new Target(issuer);
    const before = await attackerRequests();
    const header = JSON.stringify({ alg: 'RS256', kid: issuer.key.kid, ...headerExtra() });
    const token = await signedRaw(attacker, header, claimsJson(issuer));
    await target.expectRefused(await target.sendToken(token), code);
    expect(await attackerRequests()).toBe(before);
  });

  it.each<[string, string]>([
    ['path traversal', '../../../../etc/passwd'],
    ['SQL injection', "' OR '1'='1' --"],
    ['markup', '<script>alert(1)</script>'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the attack.
    ['a lookup string', '${jndi:ldap://127.0.0.1/a}'],
    ['CRLF header injection', 'k\r\nX-Injected: yes'],
    ['a quote and backslash', 'k"\\"'],
    ['a 10 KB kid', `kid-${'x'.repeat(10 * 1024)}`],
  ])('refuses a kid with %s and never echoes it', async (_name, kid) => {
    const target = new Target(issuer);
    const token = await issuer.mint({ header: { kid } });
    await target.expectRefused(await target.sendToken(token), 'unknown_kid', kid);
  });

  it.each<[string, unknown]>([
    ['a number', 7],
    ['an object', { $ne: null }],
    ['an array', ['rs256-kid']],
    ['null', null],
    ['true', true],
  ])('refuses a non-string kid: %s', async (_name, kid) => {
    const target = new Target(issuer);
    const header = JSON.stringify({ alg: 'RS256', kid });
    await target.expectRefused(
      await target.sendToken(await signedRaw(issuer.key, header, claimsJson(issuer))),
      'unknown_kid',
    );
  });

  it('never fetches from a host a token names in iss', async () => {
    const target = new Target(issuer, { JWKS_URI: undefined });
    const before = await attackerRequests();
    const token = await signedRaw(
      attacker,
      JSON.stringify({ alg: 'RS256', kid: 'evil' }),
      claimsJson(issuer, { iss: attackerHost.url }),
    );
    // The issuer is chosen by the unverified iss before any key lookup: a foreign iss fetches nothing at all.
    await target.expectRefused(await target.sendToken(token), 'wrong_issuer');
    expect(await attackerRequests()).toBe(before);
    expect(target.fetched.some((url) => url.includes(attackerHost.id))).toBe(false);
    expect(target.fetched).toEqual([]);
  });
});
