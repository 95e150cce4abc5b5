import { beforeEach, describe, expect, it, vi } from 'vitest';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { bearer, ClockedGateway, parseChallenge, varsFor } from './helpers/worker.ts';

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

/** A client certificate as Cloudflare describes it to the Worker, and its RFC 8705 thumbprint. */
async function certificate(der = crypto.getRandomValues(new Uint8Array(600))) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', der));
  const hex = [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  const thumbprint = btoa(String.fromCharCode(...digest))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
  return { hex, thumbprint };
}

interface Connection {
  readonly certVerified?: string;
  readonly certRevoked?: '0' | '1';
  readonly certFingerprintSHA256?: string;
}

/** A request over a connection whose client certificate Cloudflare checked (`request.cf.tlsClientAuth`). */
function over(connection: Connection | undefined, token: string): Request {
  const request = bearer(token);
  if (!connection) return request;
  const tlsClientAuth = { certPresented: '1', certVerified: 'SUCCESS', certRevoked: '0', ...connection };
  return new Request(request, { cf: { tlsClientAuth } } as RequestInit);
}

async function outcome(gateway: ClockedGateway, request: Request): Promise<string> {
  const response = await gateway.call(request);
  if (response.status === 200) return 'ok';
  expect(response.status).toBe(401);
  expect(parseChallenge(response.headers.get('www-authenticate')).error).toBe('invalid_token');
  return ((await response.json()) as { code: string }).code;
}

async function setUp() {
  const issuer = await TestIssuer.create();
  const gateway = new ClockedGateway(varsFor(issuer, new TestOrigin()));
  const cert = await certificate();
  const bound = await issuer.mint({ at: gateway.nowSeconds, claims: { cnf: { 'x5t#S256': cert.thumbprint } } });
  return { issuer, gateway, cert, bound };
}

describe('certificate-bound tokens (RFC 8705 §3)', () => {
  it('accepts a bound token over a connection with that verified certificate, its fingerprint in either case', async () => {
    const { gateway, cert, bound } = await setUp();
    expect(await outcome(gateway, over({ certFingerprintSHA256: cert.hex }, bound))).toBe('ok');
    expect(await outcome(gateway, over({ certFingerprintSHA256: cert.hex.toUpperCase() }, bound))).toBe('ok');
  });

  it('refuses a bound token without a client certificate, with another one, or with one Cloudflare did not verify', async () => {
    const { gateway, cert, bound } = await setUp();
    const other = await certificate();
    expect(await outcome(gateway, over(undefined, bound))).toBe('certificate_mismatch');
    expect(await outcome(gateway, over({ certFingerprintSHA256: other.hex }, bound))).toBe('certificate_mismatch');
    expect(
      await outcome(
        gateway,
        over({ certVerified: 'FAILED:self signed certificate', certFingerprintSHA256: cert.hex }, bound),
      ),
    ).toBe('certificate_mismatch');
    expect(await outcome(gateway, over({ certVerified: 'NONE', certFingerprintSHA256: '' }, bound))).toBe(
      'certificate_mismatch',
    );
    expect(await outcome(gateway, over({ certRevoked: '1', certFingerprintSHA256: cert.hex }, bound))).toBe(
      'certificate_mismatch',
    );
  });

  it('checks the binding on every request: a token from the verified-token cache still needs its certificate', async () => {
    const { gateway, cert, bound } = await setUp();
    for (let i = 0; i < 4; i++)
      expect(await outcome(gateway, over({ certFingerprintSHA256: cert.hex }, bound))).toBe('ok');
    expect(await outcome(gateway, over(undefined, bound))).toBe('certificate_mismatch');
  });

  it('refuses a thumbprint that is not base64url of a SHA-256 digest', async () => {
    const { issuer, gateway, cert } = await setUp();
    const connection = { certFingerprintSHA256: cert.hex };
    const mint = (thumbprint: unknown) =>
      issuer.mint({ at: gateway.nowSeconds, claims: { cnf: { 'x5t#S256': thumbprint } } });
    for (const thumbprint of [
      `${cert.thumbprint}A`,
      cert.thumbprint.slice(1),
      `${cert.thumbprint.slice(0, 42)}+`,
      cert.hex,
      42,
    ]) {
      expect(await outcome(gateway, over(connection, await mint(thumbprint)))).toBe('certificate_mismatch');
    }
    // A fingerprint Cloudflare would never send (not 64 hex digits) matches nothing.
    expect(await outcome(gateway, over({ certFingerprintSHA256: `${cert.hex}00` }, await mint(cert.thumbprint)))).toBe(
      'certificate_mismatch',
    );
  });
});

describe('bindings this verifier cannot check', () => {
  it('refuses a DPoP-bound token (cnf.jkt) presented as a Bearer token (RFC 9449 §7.1)', async () => {
    const { issuer, gateway } = await setUp();
    const token = await issuer.mint({ at: gateway.nowSeconds, claims: { cnf: { jkt: 'A'.repeat(43) } } });
    expect(await outcome(gateway, over(undefined, token))).toBe('dpop_bound_token');
  });

  it('refuses any other confirmation method, even beside a certificate thumbprint that matches', async () => {
    const { issuer, gateway, cert } = await setUp();
    const connection = { certFingerprintSHA256: cert.hex };
    for (const cnf of [
      { jwk: { kty: 'EC' } },
      { kid: 'k1' },
      { jku: 'https://x' },
      { 'x5t#S256': cert.thumbprint, kid: 'k1' },
    ]) {
      const token = await issuer.mint({ at: gateway.nowSeconds, claims: { cnf } });
      expect(await outcome(gateway, over(connection, token))).toBe('unsupported_binding');
    }
  });

  it('refuses a cnf that is not an object, and passes an empty one', async () => {
    const { issuer, gateway } = await setUp();
    for (const cnf of ['x5t', 7, ['x5t#S256'], null]) {
      const token = await issuer.mint({ at: gateway.nowSeconds, claims: { cnf } });
      expect(await outcome(gateway, over(undefined, token))).toBe('invalid_claims');
    }
    expect(
      await outcome(gateway, over(undefined, await issuer.mint({ at: gateway.nowSeconds, claims: { cnf: {} } }))),
    ).toBe('ok');
  });
});
