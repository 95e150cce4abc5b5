import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { bearer, callWorker, parseChallenge, varsFor, WORKER_URL } from './helpers/worker.ts';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.create(['RS256']);
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

/** Asserts the RFC 6750 shape every refusal shares, and that the origin saw nothing. */
async function expectRefusal(
  response: Response,
  origin: TestOrigin,
  expected: { status: number; code: string; error?: string; challenge?: boolean },
): Promise<Record<string, string> | undefined> {
  expect(response.status).toBe(expected.status);
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = (await response.json()) as Record<string, unknown>;
  expect(body.code).toBe(expected.code);
  expect(body.status).toBe(expected.status);
  expect(body.error).toBe(expected.error);
  expect(await origin.hits()).toBe(0);
  if (expected.challenge === false) {
    expect(response.headers.get('www-authenticate')).toBeNull();
    return undefined;
  }
  const challenge = parseChallenge(response.headers.get('www-authenticate'));
  expect(challenge.realm).toBe('api');
  expect(challenge.error).toBe(expected.error);
  return challenge;
}

describe('RFC 6750 responses', () => {
  it('answers a request without Authorization with 401 and a challenge without error', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(new Request(`${WORKER_URL}/resource`), varsFor(issuer, origin));
    const challenge = await expectRefusal(response, origin, { status: 401, code: 'missing_token' });
    expect(challenge).toEqual({ realm: 'api' });
  });

  it('answers a non-Bearer scheme with 401 and no error', async () => {
    const origin = new TestOrigin();
    const request = new Request(`${WORKER_URL}/resource`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    const challenge = await expectRefusal(await callWorker(request, varsFor(issuer, origin)), origin, {
      status: 401,
      code: 'unsupported_scheme',
    });
    expect(challenge).toEqual({ realm: 'api' });
  });

  it.each([
    ['Bearer with no token', 'Bearer'],
    ['Bearer with only spaces', 'Bearer    '],
    ['characters outside b64token', 'Bearer abc$def'],
    ['a token with an inner space', 'Bearer abc def'],
  ])('answers %s with 400 invalid_request', async (_name, authorization) => {
    const origin = new TestOrigin();
    const request = new Request(`${WORKER_URL}/resource`, { headers: { authorization } });
    const challenge = await expectRefusal(await callWorker(request, varsFor(issuer, origin)), origin, {
      status: 400,
      code: 'malformed_authorization',
      error: 'invalid_request',
    });
    expect(challenge?.error_description).toBe('malformed Authorization header');
  });

  it('answers two Authorization values with 400 invalid_request', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const headers = new Headers();
    headers.append('authorization', `Bearer ${token}`);
    headers.append('authorization', `Bearer ${token}`);
    const request = new Request(`${WORKER_URL}/resource`, { headers });
    await expectRefusal(await callWorker(request, varsFor(issuer, origin)), origin, {
      status: 400,
      code: 'malformed_authorization',
      error: 'invalid_request',
    });
  });

  const invalidTokens: [string, () => Promise<string>, string, string][] = [
    [
      'a bad signature',
      async () => `${(await issuer.mint()).slice(0, -6)}AAAAAA`,
      'bad_signature',
      'signature verification failed',
    ],
    [
      'an expired token',
      () => issuer.mint({ claims: { exp: Math.floor(Date.now() / 1000) - 3600 } }),
      'token_expired',
      'token expired',
    ],
    [
      'a token not yet valid',
      () => issuer.mint({ claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }),
      'token_not_yet_valid',
      'token not yet valid',
    ],
    [
      'a wrong issuer',
      () => issuer.mint({ claims: { iss: 'https://evil.example' } }),
      'wrong_issuer',
      'issuer mismatch',
    ],
    [
      'a wrong audience',
      () => issuer.mint({ claims: { aud: 'https://other.example' } }),
      'wrong_audience',
      'audience mismatch',
    ],
    [
      'a disallowed alg',
      async () => {
        const ps = await TestIssuer.create(['PS256']);
        return ps.mint({ claims: { iss: issuer.url } });
      },
      'alg_not_allowed',
      'signing algorithm not allowed',
    ],
    ['an unknown kid', () => issuer.mint({ header: { kid: 'no-such-kid' } }), 'unknown_kid', 'signing key not found'],
    ['a malformed JWT', async () => 'not.a.jwt', 'malformed_token', 'malformed token'],
    ['a token without exp', () => issuer.mint({ claims: { exp: undefined } }), 'invalid_claims', 'invalid claims'],
  ];

  it.each(invalidTokens)(
    'answers %s with 401 invalid_token and a fixed description',
    async (_name, make, code, description) => {
      const origin = new TestOrigin();
      const token = await make();
      const vars = varsFor(issuer, origin, { ALGORITHMS: 'RS256,ES256' });
      const response = await callWorker(bearer(token), vars);
      const challenge = await expectRefusal(response, origin, { status: 401, code, error: 'invalid_token' });
      expect(challenge?.error_description).toBe(description);
      expect(response.headers.get('www-authenticate')).not.toContain(token.slice(0, 20));
    },
  );

  it('answers missing scopes with 403 insufficient_scope naming the required scopes', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims: { scope: 'read' } });
    const response = await callWorker(bearer(token), varsFor(issuer, origin, { REQUIRED_SCOPES: 'read admin' }));
    const challenge = await expectRefusal(response, origin, {
      status: 403,
      code: 'insufficient_scope',
      error: 'insufficient_scope',
    });
    expect(challenge?.scope).toBe('read admin');
  });

  it('answers 503 with Retry-After when the issuer is unreachable and nothing is cached', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const vars = varsFor(issuer, origin, { JWKS_URI: 'http://127.0.0.1:9/jwks' });
    const response = await callWorker(bearer(token), vars);
    expect(response.headers.get('retry-after')).toBe('30');
    await expectRefusal(response, origin, { status: 503, code: 'jwks_unavailable', challenge: false });
  });

  it('answers 502 when the origin is unreachable', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint();
    const response = await callWorker(bearer(token), varsFor(issuer, origin, { ORIGIN: 'http://127.0.0.1:9' }));
    await expectRefusal(response, origin, { status: 502, code: 'origin_unreachable', challenge: false });
  });

  it('sends exactly one WWW-Authenticate header with one challenge', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(bearer('x.y.z'), varsFor(issuer, origin));
    const header = response.headers.get('www-authenticate') ?? '';
    expect(header.match(/Bearer/g)).toHaveLength(1);
    expect([...response.headers].filter(([name]) => name === 'www-authenticate')).toHaveLength(1);
  });

  it('passes a valid token through with 200', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(bearer(await issuer.mint()), varsFor(issuer, origin));
    expect(response.status).toBe(200);
    expect(await origin.hits()).toBe(1);
  });
});
