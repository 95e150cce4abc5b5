import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AUDIENCE, makeKey, TestIssuer } from './helpers/issuer.ts';
import { type Echo, TestOrigin } from './helpers/origin.ts';
import { policyIssuer, policyVars } from './helpers/policy.ts';
import { readCacheApi } from './helpers/tiers.ts';
import { bearer, callWorker, varsFor } from './helpers/worker.ts';

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

async function refusal(response: Response): Promise<[number, string]> {
  return [response.status, ((await response.json()) as { code: string }).code];
}

async function jwksFetches(issuer: TestIssuer): Promise<number> {
  return (await issuer.stats()).jwksFetches;
}

/** Two issuers, each with a route of its own and one route shared. */
async function twoIssuers() {
  const corp = await TestIssuer.create();
  const partner = await TestIssuer.create(['ES256']);
  const origin = new TestOrigin();
  const vars = policyVars({
    issuers: { corp: policyIssuer(corp), partner: policyIssuer(partner) },
    routes: [
      { path: '/corp/*', access: 'required', issuers: ['corp'] },
      { path: '/partner/*', access: 'required', issuers: ['partner'] },
      { path: '/shared/*', access: 'required', issuers: ['corp', 'partner'] },
    ],
    origin: origin.url,
  });
  return { corp, partner, origin, vars };
}

describe('several issuers', () => {
  it('accepts each issuer’s token on its own routes and the shared one', async () => {
    const { corp, partner, vars } = await twoIssuers();
    const corpToken = await corp.mint({ claims: { sub: 'c-user' } });
    const partnerToken = await partner.mint({ claims: { sub: 'p-user' } });
    for (const [token, path, subject] of [
      [corpToken, '/corp/x', 'c-user'],
      [corpToken, '/shared/x', 'c-user'],
      [partnerToken, '/partner/x', 'p-user'],
      [partnerToken, '/shared/x', 'p-user'],
    ] as const) {
      const response = await callWorker(bearer(token, path), vars);
      expect(response.status).toBe(200);
      expect(((await response.json()) as Echo).headers['x-auth-subject']).toBe(subject);
    }
    // One key cache per JWKS URI, never shared.
    expect((await readCacheApi(corp.jwksUri))?.keys.map((k) => k.kid)).toEqual([corp.key.kid]);
    expect((await readCacheApi(partner.jwksUri))?.keys.map((k) => k.kid)).toEqual([partner.key.kid]);
  });

  it('refuses an issuer not allowed on the route with wrong_issuer, fetching nothing', async () => {
    const { corp, partner, origin, vars } = await twoIssuers();
    expect(await refusal(await callWorker(bearer(await partner.mint(), '/corp/x'), vars))).toEqual([
      401,
      'wrong_issuer',
    ]);
    expect(await refusal(await callWorker(bearer(await corp.mint(), '/partner/x'), vars))).toEqual([
      401,
      'wrong_issuer',
    ]);
    expect(await jwksFetches(corp)).toBe(0);
    expect(await jwksFetches(partner)).toBe(0);
    expect(await origin.hits()).toBe(0);
  });

  it('refuses a token with an iss no issuer of the route has, or none at all, fetching nothing', async () => {
    const { corp, partner, vars } = await twoIssuers();
    for (const iss of ['https://elsewhere.example/', undefined, 42]) {
      const response = await callWorker(bearer(await corp.mint({ claims: { iss } }), '/shared/x'), vars);
      expect(await refusal(response)).toEqual([401, 'wrong_issuer']);
    }
    expect(await jwksFetches(corp)).toBe(0);
    expect(await jwksFetches(partner)).toBe(0);
  });

  it('refuses a token claiming issuer B signed with A’s key', async () => {
    const { corp, partner, vars } = await twoIssuers();
    const forged = await corp.mint({ claims: { iss: partner.url } });
    expect(await refusal(await callWorker(bearer(forged, '/shared/x'), vars))).toEqual([401, 'unknown_kid']);
    expect(await refusal(await callWorker(bearer(forged, '/partner/x'), vars))).toEqual([401, 'unknown_kid']);
  });

  it('never verifies one issuer’s token with another issuer’s key of the same kid', async () => {
    const corp = await TestIssuer.create();
    const partner = await TestIssuer.create();
    // The partner publishes a key of its own under the corp key's kid.
    partner.keys = [await makeKey('RS256', corp.key.kid)];
    await partner.publish();
    const origin = new TestOrigin();
    const vars = policyVars({
      issuers: { corp: policyIssuer(corp), partner: policyIssuer(partner) },
      routes: [{ path: '/*', access: 'required', issuers: ['corp', 'partner'] }],
      origin: origin.url,
    });
    expect((await callWorker(bearer(await corp.mint()), vars)).status).toBe(200);
    expect((await callWorker(bearer(await partner.mint()), vars)).status).toBe(200);
    const corpKeyClaimingPartner = await corp.mint({ claims: { iss: partner.url } });
    expect(await refusal(await callWorker(bearer(corpKeyClaimingPartner), vars))).toEqual([401, 'bad_signature']);
    const partnerKeyClaimingCorp = await partner.mint({ claims: { iss: corp.url } });
    expect(await refusal(await callWorker(bearer(partnerKeyClaimingCorp), vars))).toEqual([401, 'bad_signature']);
  });
});

describe('client_ids (tokens without aud)', () => {
  async function cognito(extra: Record<string, unknown> = {}) {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    const vars = policyVars({
      issuers: {
        pool: { issuer: issuer.url, jwks_uri: issuer.jwksUri, client_ids: ['3n4b5urk1ft4fl3mg5e62d9ado'], ...extra },
      },
      routes: [{ path: '/*', access: 'required' }],
      origin: origin.url,
    });
    return { issuer, vars };
  }

  /** The shape of an Amazon Cognito access token: no aud, a client_id and token_use. */
  const accessClaims = (clientId: string, extra: Record<string, unknown> = {}) => ({
    aud: undefined,
    client_id: clientId,
    token_use: 'access',
    ...extra,
  });

  it('accepts a Cognito-shaped access token whose client_id is listed', async () => {
    const { issuer, vars } = await cognito();
    const token = await issuer.mint({ claims: accessClaims('3n4b5urk1ft4fl3mg5e62d9ado') });
    expect((await callWorker(bearer(token), vars)).status).toBe(200);
  });

  it('refuses another client_id, a token_use other than access, and a token with neither', async () => {
    const { issuer, vars } = await cognito();
    for (const claims of [
      accessClaims('another-client'),
      accessClaims('3n4b5urk1ft4fl3mg5e62d9ado', { token_use: 'id' }),
      { aud: undefined },
    ]) {
      expect(await refusal(await callWorker(bearer(await issuer.mint({ claims })), vars))).toEqual([
        401,
        'wrong_audience',
      ]);
    }
  });

  it('reads azp when the token has no client_id (Keycloak without an audience mapper, Clerk)', async () => {
    const { issuer, vars } = await cognito();
    const azp = (claims: Record<string, unknown>) => issuer.mint({ claims: { aud: undefined, ...claims } });
    expect((await callWorker(bearer(await azp({ azp: '3n4b5urk1ft4fl3mg5e62d9ado' })), vars)).status).toBe(200);
    expect(await refusal(await callWorker(bearer(await azp({ azp: 'another-client' })), vars))).toEqual([
      401,
      'wrong_audience',
    ]);
    // A client_id, when present, is the client: azp does not override it.
    const both = await azp({ client_id: 'another-client', azp: '3n4b5urk1ft4fl3mg5e62d9ado' });
    expect(await refusal(await callWorker(bearer(both), vars))).toEqual([401, 'wrong_audience']);
    // Cognito's rule still holds for azp: an ID token is not an access token.
    const idToken = await azp({ azp: '3n4b5urk1ft4fl3mg5e62d9ado', token_use: 'id' });
    expect(await refusal(await callWorker(bearer(idToken), vars))).toEqual([401, 'wrong_audience']);
  });

  it('judges a token that has an aud by audiences only', async () => {
    const { issuer, vars } = await cognito({ audiences: [AUDIENCE] });
    const listedClientOtherAud = await issuer.mint({
      claims: { aud: 'https://other.example', client_id: '3n4b5urk1ft4fl3mg5e62d9ado' },
    });
    expect(await refusal(await callWorker(bearer(listedClientOtherAud), vars))).toEqual([401, 'wrong_audience']);
    expect((await callWorker(bearer(await issuer.mint()), vars)).status).toBe(200);
  });

  it('works from the flat variables with CLIENT_IDS and no AUDIENCE', async () => {
    const issuer = await TestIssuer.create();
    const vars = varsFor(issuer, new TestOrigin(), { AUDIENCE: undefined, CLIENT_IDS: 'cid-1, cid-2' });
    expect((await callWorker(bearer(await issuer.mint({ claims: accessClaims('cid-2') })), vars)).status).toBe(200);
    expect(await refusal(await callWorker(bearer(await issuer.mint({ claims: accessClaims('cid-3') })), vars))).toEqual(
      [401, 'wrong_audience'],
    );
    // With no AUDIENCE, a token with an aud cannot match any audience.
    expect(await refusal(await callWorker(bearer(await issuer.mint()), vars))).toEqual([401, 'wrong_audience']);
  });
});

describe('issuer rules', () => {
  async function withRules(rules: Record<string, unknown>) {
    const issuer = await TestIssuer.create();
    const vars = policyVars({
      issuers: { corp: policyIssuer(issuer, rules) },
      routes: [{ path: '/*', access: 'required' }],
      origin: new TestOrigin().url,
    });
    return { issuer, vars };
  }

  it('accepts only the token types listed, compared as RFC 9068 says', async () => {
    const { issuer, vars } = await withRules({ token_types: ['at+jwt'] });
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt']) {
      expect((await callWorker(bearer(await issuer.mint({ header: { typ } })), vars)).status).toBe(200);
    }
    for (const header of [{ typ: 'JWT' }, {}]) {
      expect(await refusal(await callWorker(bearer(await issuer.mint({ header })), vars))).toEqual([
        401,
        'wrong_token_type',
      ]);
    }
  });

  it('does not check typ when token_types is absent', async () => {
    const { issuer, vars } = await withRules({});
    expect((await callWorker(bearer(await issuer.mint({ header: { typ: 'JWT' } })), vars)).status).toBe(200);
  });

  it('refuses a token without a required claim', async () => {
    const { issuer, vars } = await withRules({ required_claims: ['client_id', 'org.id'] });
    const complete = await issuer.mint({ claims: { client_id: 'c', org: { id: 'o' } } });
    expect((await callWorker(bearer(complete), vars)).status).toBe(200);
    for (const claims of [{ org: { id: 'o' } }, { client_id: 'c', org: {} }]) {
      expect(await refusal(await callWorker(bearer(await issuer.mint({ claims })), vars))).toEqual([
        401,
        'invalid_claims',
      ]);
    }
  });
});
