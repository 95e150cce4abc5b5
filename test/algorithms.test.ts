import { beforeEach, describe, expect, it, vi } from 'vitest';
import { makeKey, TestIssuer, withAlg } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { bearer, callWorker, varsFor } from './helpers/worker.ts';

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

async function code(response: Response): Promise<string | undefined> {
  return response.status === 200 ? undefined : ((await response.json()) as { code: string }).code;
}

describe('signing algorithms', () => {
  it.each(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA', 'Ed25519'])(
    'accepts a valid %s token by default',
    async (alg) => {
      const issuer = await TestIssuer.create([alg]);
      const origin = new TestOrigin();
      const response = await callWorker(bearer(await issuer.mint()), varsFor(issuer, origin));
      expect(response.status).toBe(200);
      expect(await origin.hits()).toBe(1);
    },
  );

  it('accepts Ed25519 (RFC 9864) wherever EdDSA is accepted, with an OKP Ed25519 key only', async () => {
    const issuer = await TestIssuer.create(['Ed25519']);
    const token = await issuer.mint();
    const vars = (algorithms: string) => varsFor(issuer, new TestOrigin(), { ALGORITHMS: algorithms });
    expect((await callWorker(bearer(token), vars('EdDSA'))).status).toBe(200);
    expect((await callWorker(bearer(token), vars('Ed25519'))).status).toBe(200);
    expect(await code(await callWorker(bearer(token), vars('ES256')))).toBe('alg_not_allowed');
    // A key the JWKS publishes for EdDSA verifies the fully-specified Ed25519 too.
    const eddsa = await TestIssuer.create(['EdDSA']);
    const fullySpecified = await eddsa.mint({ header: { alg: 'Ed25519' } });
    expect((await callWorker(bearer(fullySpecified), varsFor(eddsa, new TestOrigin()))).status).toBe(200);
    // An Ed25519 header over an EC key's kid finds no key that fits.
    const ec = await TestIssuer.create(['ES256']);
    const onEcKid = await eddsa.mint({ header: { alg: 'Ed25519', kid: ec.key.kid }, claims: { iss: ec.url } });
    expect(await code(await callWorker(bearer(onEcKid), varsFor(ec, new TestOrigin())))).toBe('unknown_kid');
  });

  it('accepts ES512 only when configured', async () => {
    const issuer = await TestIssuer.create(['ES512']);
    const token = await issuer.mint();
    expect(await code(await callWorker(bearer(token), varsFor(issuer, new TestOrigin())))).toBe('alg_not_allowed');
    const response = await callWorker(bearer(token), varsFor(issuer, new TestOrigin(), { ALGORITHMS: 'ES512' }));
    expect(response.status).toBe(200);
  });

  it('refuses an algorithm left out of ALGORITHMS before looking up any key', async () => {
    const issuer = await TestIssuer.create(['ES256']);
    const response = await callWorker(
      bearer(await issuer.mint()),
      varsFor(issuer, new TestOrigin(), { ALGORITHMS: 'RS256' }),
    );
    expect(await code(response)).toBe('alg_not_allowed');
    expect((await issuer.stats()).jwksFetches).toBe(0);
  });

  it('refuses a header alg that differs from the key’s own alg', async () => {
    // The key says RS256; a PS256 signature made with the same RSA key must not verify.
    const issuer = await TestIssuer.create(['RS256']);
    const ps = await withAlg(issuer.key, 'PS256');
    const response = await callWorker(bearer(await issuer.mint({ key: ps })), varsFor(issuer, new TestOrigin()));
    expect(await code(response)).toBe('unknown_kid');
  });

  it('lets a key without alg verify any algorithm of its own family only', async () => {
    const issuer = await TestIssuer.create(['RS256']);
    const { alg: _alg, ...noAlg } = issuer.key.publicJwk;
    await issuer.publish({ keys: [noAlg] });
    const vars = varsFor(issuer, new TestOrigin());
    expect(
      (await callWorker(bearer(await issuer.mint({ key: await withAlg(issuer.key, 'PS256') })), vars)).status,
    ).toBe(200);
    // An EC header alg naming this RSA key's kid finds no fitting key.
    const ec = await makeKey('ES256', issuer.key.kid);
    expect(await code(await callWorker(bearer(await issuer.mint({ key: ec })), vars))).toBe('unknown_kid');
  });

  it('refuses alg none and HS256 even when ALGORITHMS is misconfigured to allow them', async () => {
    const issuer = await TestIssuer.create(['RS256']);
    for (const ALGORITHMS of ['none', 'HS256', 'RS256,hs512']) {
      const response = await callWorker(bearer(await issuer.mint()), varsFor(issuer, new TestOrigin(), { ALGORITHMS }));
      expect(response.status).toBe(500);
      expect(await code(response)).toBe('config_invalid');
    }
  });

  it('refuses an unsigned alg none token', async () => {
    const issuer = await TestIssuer.create(['RS256']);
    const encode = (value: object) =>
      btoa(JSON.stringify(value)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const now = Math.floor(Date.now() / 1000);
    const token = `${encode({ alg: 'none', kid: issuer.key.kid })}.${encode({ iss: issuer.url, aud: 'https://api.example.test', exp: now + 60 })}.`;
    const response = await callWorker(bearer(token), varsFor(issuer, new TestOrigin()));
    expect(response.status).toBe(401);
    // An empty signature segment fails the shape check before the algorithm is even read.
    expect(await code(response)).toBe('malformed_token');
  });

  it('verifies a token without kid when exactly one key fits', async () => {
    const issuer = await TestIssuer.create(['RS256', 'ES256']);
    const vars = varsFor(issuer, new TestOrigin());
    const token = await issuer.mint({ header: { kid: undefined } });
    expect((await callWorker(bearer(token), vars)).status).toBe(200);
  });

  it('tries each fitting key, in JWKS order, for a token without kid', async () => {
    const issuer = await TestIssuer.create(['RS256', 'ES256', 'RS256', 'RS256']);
    const vars = varsFor(issuer, new TestOrigin());
    for (const key of [issuer.keys[0], issuer.keys[2], issuer.keys[3]]) {
      const token = await issuer.mint({ key, header: { kid: undefined } });
      expect((await callWorker(bearer(token), vars)).status).toBe(200);
    }
    const stranger = await makeKey('RS256');
    const forged = await issuer.mint({ key: stranger, header: { kid: undefined } });
    expect(await code(await callWorker(bearer(forged), vars))).toBe('bad_signature');
  });

  it('refuses a token without kid when more than 3 keys fit', async () => {
    const issuer = await TestIssuer.create(['RS256', 'RS256', 'RS256', 'RS256']);
    const token = await issuer.mint({ header: { kid: undefined } });
    expect(await code(await callWorker(bearer(token), varsFor(issuer, new TestOrigin())))).toBe('unknown_kid');
  });
});
