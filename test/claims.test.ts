import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AUDIENCE, TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { bearer, ClockedGateway, varsFor } from './helpers/worker.ts';

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

async function outcome(gateway: ClockedGateway, token: string): Promise<string> {
  const response = await gateway.call(bearer(token));
  return response.status === 200 ? 'ok' : ((await response.json()) as { code: string }).code;
}

describe('claims', () => {
  it('accepts aud as a string or as an array containing one configured audience', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin(), { AUDIENCE: `other, ${AUDIENCE}` }));
    const at = gateway.nowSeconds;
    expect(await outcome(gateway, await issuer.mint({ at, claims: { aud: AUDIENCE } }))).toBe('ok');
    expect(await outcome(gateway, await issuer.mint({ at, claims: { aud: ['x', AUDIENCE] } }))).toBe('ok');
    expect(await outcome(gateway, await issuer.mint({ at, claims: { aud: ['x', 'y'] } }))).toBe('wrong_audience');
    expect(await outcome(gateway, await issuer.mint({ at, claims: { aud: [] } }))).toBe('wrong_audience');
    expect(await outcome(gateway, await issuer.mint({ at, claims: { aud: undefined } }))).toBe('wrong_audience');
  });

  it('matches iss exactly', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    const at = gateway.nowSeconds;
    for (const iss of [`${issuer.url}/`, issuer.url.toUpperCase(), issuer.url.slice(0, -1), [issuer.url]]) {
      expect(await outcome(gateway, await issuer.mint({ at, claims: { iss } }))).not.toBe('ok');
    }
    expect(await outcome(gateway, await issuer.mint({ at }))).toBe('ok');
  });

  describe('with CLOCK_SKEW_SECONDS=60', () => {
    it('accepts exp up to 60 s in the past and refuses it beyond', async () => {
      const issuer = await TestIssuer.create();
      const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
      const now = gateway.nowSeconds;
      gateway.nowMs = now * 1000;
      expect(await outcome(gateway, await issuer.mint({ at: now - 600, claims: { exp: now - 59 } }))).toBe('ok');
      expect(await outcome(gateway, await issuer.mint({ at: now - 600, claims: { exp: now - 60 } }))).toBe(
        'token_expired',
      );
    });

    it('accepts nbf up to 60 s in the future and refuses it beyond', async () => {
      const issuer = await TestIssuer.create();
      const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
      const now = gateway.nowSeconds;
      gateway.nowMs = now * 1000;
      expect(await outcome(gateway, await issuer.mint({ at: now, claims: { nbf: now + 60 } }))).toBe('ok');
      expect(await outcome(gateway, await issuer.mint({ at: now, claims: { nbf: now + 61 } }))).toBe(
        'token_not_yet_valid',
      );
    });

    it('accepts iat up to 60 s in the future and refuses it beyond', async () => {
      const issuer = await TestIssuer.create();
      const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
      const now = gateway.nowSeconds;
      gateway.nowMs = now * 1000;
      expect(await outcome(gateway, await issuer.mint({ at: now + 60 }))).toBe('ok');
      expect(await outcome(gateway, await issuer.mint({ at: now + 61 }))).toBe('token_not_yet_valid');
    });
  });

  it('uses a configured skew of 0', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin(), { CLOCK_SKEW_SECONDS: '0' }));
    const now = gateway.nowSeconds;
    gateway.nowMs = now * 1000;
    expect(await outcome(gateway, await issuer.mint({ at: now - 600, claims: { exp: now + 1 } }))).toBe('ok');
    expect(await outcome(gateway, await issuer.mint({ at: now - 600, claims: { exp: now } }))).toBe('token_expired');
    expect(await outcome(gateway, await issuer.mint({ at: now, claims: { nbf: now + 1 } }))).toBe(
      'token_not_yet_valid',
    );
  });

  it('reports the first failing check when several fail: presence of iss, aud, exp, then their values', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    const at = gateway.nowSeconds;
    const expired = { exp: at - 3600 };
    expect(await outcome(gateway, await issuer.mint({ at, claims: { ...expired, iss: undefined } }))).toBe(
      'wrong_issuer',
    );
    expect(await outcome(gateway, await issuer.mint({ at, claims: { ...expired, aud: 'other' } }))).toBe(
      'wrong_audience',
    );
    expect(await outcome(gateway, await issuer.mint({ at, claims: { exp: undefined, aud: 'other' } }))).toBe(
      'invalid_claims',
    );
    expect(await outcome(gateway, await issuer.mint({ at, claims: { ...expired, nbf: at + 3600 } }))).toBe(
      'token_not_yet_valid',
    );
    expect(await outcome(gateway, await issuer.mint({ at: at + 3600, claims: expired }))).toBe('token_expired');
  });

  it('counts exp and nbf in whole seconds, iat against the exact clock', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin(), { CLOCK_SKEW_SECONDS: '0' }));
    const now = gateway.nowSeconds;
    gateway.nowMs = now * 1000 + 999;
    expect(await outcome(gateway, await issuer.mint({ at: now - 600, claims: { exp: now } }))).toBe('token_expired');
    expect(await outcome(gateway, await issuer.mint({ at: now - 600, claims: { exp: now + 1 } }))).toBe('ok');
    expect(await outcome(gateway, await issuer.mint({ at: now - 600, claims: { exp: now + 1, nbf: now } }))).toBe('ok');
    expect(
      await outcome(gateway, await issuer.mint({ at: now - 600, claims: { iat: now + 0.5, exp: now + 600 } })),
    ).toBe('ok');
    expect(await outcome(gateway, await issuer.mint({ at: now + 1, claims: { exp: now + 600 } }))).toBe(
      'token_not_yet_valid',
    );
  });

  it('fails closed when the clock is not a number', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    const token = await issuer.mint({ at: gateway.nowSeconds - 3600 });
    gateway.nowMs = Number.NaN;
    expect(await outcome(gateway, token)).toBe('internal_error');
  });

  it('refuses non-numeric time claims', async () => {
    const issuer = await TestIssuer.create();
    const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
    const at = gateway.nowSeconds;
    for (const claims of [{ exp: '9999999999' }, { exp: null }, { nbf: true }, { iat: [1] }]) {
      expect(await outcome(gateway, await issuer.mint({ at, claims }))).toBe('invalid_claims');
    }
  });

  describe('scopes', () => {
    it.each([
      ['read write', 'read', 'ok'],
      ['read write', 'read write', 'ok'],
      ['readwrite', 'read', 'insufficient_scope'],
      ['READ', 'read', 'insufficient_scope'],
      ['read,admin', 'read', 'insufficient_scope'],
      ['write', 'read write', 'insufficient_scope'],
    ])('scope "%s" against REQUIRED_SCOPES "%s" gives %s', async (scope, required, expected) => {
      const issuer = await TestIssuer.create();
      const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin(), { REQUIRED_SCOPES: required }));
      expect(await outcome(gateway, await issuer.mint({ at: gateway.nowSeconds, claims: { scope } }))).toBe(expected);
    });

    it('reads an scp array as well', async () => {
      const issuer = await TestIssuer.create();
      const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin(), { REQUIRED_SCOPES: 'read admin' }));
      const at = gateway.nowSeconds;
      expect(
        await outcome(gateway, await issuer.mint({ at, claims: { scope: undefined, scp: ['read', 'admin'] } })),
      ).toBe('ok');
      expect(await outcome(gateway, await issuer.mint({ at, claims: { scope: undefined, scp: ['read admin'] } }))).toBe(
        'insufficient_scope',
      );
    });
  });
});
