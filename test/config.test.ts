import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../src/config.ts';
import type { Env } from '../src/env.ts';
import { ConfigError } from '../src/errors.ts';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { bearer, callWorker, varsFor } from './helpers/worker.ts';

const base: Env = {
  ISSUER: 'https://issuer.example/',
  AUDIENCE: 'https://api.example',
  ORIGIN: 'https://origin.example',
};

function problem(vars: Env): string {
  try {
    parseConfig(vars);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).variable;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('fills every default', () => {
    const config = parseConfig(base);
    const issuer = {
      id: 'default',
      issuer: 'https://issuer.example/',
      accepted: [{ exact: 'https://issuer.example/' }],
      tenants: undefined,
      tenantClaim: 'tid',
      audiences: ['https://api.example'],
      clientIds: [],
      jwksUri: undefined,
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA', 'Ed25519'],
      clockSkewSeconds: 60,
      jwksCacheTtlSeconds: 600,
      jwksRefreshCooldownSeconds: 30,
      tokenTypes: undefined,
      requiredClaims: [],
      scopeClaims: ['scope', 'scp'],
      decryptionKeys: undefined,
      hmacSecret: undefined,
      introspection: undefined,
      dpop: 'off',
    };
    expect(config.issuers).toEqual([issuer]);
    expect(config.routes).toEqual([
      {
        path: 'any',
        methods: undefined,
        access: 'required',
        issuers: [issuer],
        scopes: { all: [], any: [] },
        claims: [],
        origin: undefined,
        originService: undefined,
      },
    ]);
    expect(config.routes[0]?.issuers[0]).toBe(config.issuers[0]);
    expect(config).toMatchObject({ headers: [], signingSecret: undefined, forwardAuthorization: true });
    expect(config.resource).toBeUndefined();
    expect(config.origin).toBe('https://origin.example');
    expect(config.originService).toBeUndefined();
    expect(config.realm).toBe('api');
  });

  it('reads lists, numbers and public paths', () => {
    const config = parseConfig({
      ...base,
      AUDIENCE: ' a , b,,',
      ALGORITHMS: 'ES256, EdDSA',
      REQUIRED_SCOPES: ' read  write ',
      CLOCK_SKEW_SECONDS: '5',
      JWKS_CACHE_TTL_SECONDS: '120',
      JWKS_REFRESH_COOLDOWN_SECONDS: '10',
      PUBLIC_PATHS: '/health, /public/*',
      ORIGIN: 'https://origin.example/base/',
      REALM: 'my api',
    });
    expect(config.issuers[0]).toMatchObject({
      audiences: ['a', 'b'],
      algorithms: ['ES256', 'EdDSA', 'Ed25519'],
      clockSkewSeconds: 5,
      jwksCacheTtlSeconds: 120,
      jwksRefreshCooldownSeconds: 10,
    });
    expect(config.routes.map(({ path, access, scopes }) => ({ path, access, scopes }))).toEqual([
      { path: { exact: '/health' }, access: 'public', scopes: { all: [], any: [] } },
      { path: { prefix: '/public/' }, access: 'public', scopes: { all: [], any: [] } },
      { path: 'any', access: 'required', scopes: { all: ['read', 'write'], any: [] } },
    ]);
    expect(config.origin).toBe('https://origin.example/base');
    expect(config.realm).toBe('my api');
  });

  it.each<[string, Env]>([
    ['ISSUER', { ...base, ISSUER: undefined }],
    ['ISSUER', { ...base, ISSUER: 'not a url' }],
    ['ISSUER', { ...base, ISSUER: 'http://issuer.example' }],
    ['AUDIENCE', { ...base, AUDIENCE: ' , ' }],
    ['ORIGIN', { ...base, ORIGIN: 'ftp://origin.example' }],
    ['ORIGIN', { ...base, ORIGIN: 'https://origin.example/?a=b' }],
    ['JWKS_URI', { ...base, JWKS_URI: 'http://keys.example/jwks' }],
    ['JWKS_URI', { ...base, JWKS_URI: 'http://127.0.0.1.evil.example/jwks' }],
    ['ALGORITHMS', { ...base, ALGORITHMS: 'none' }],
    ['ALGORITHMS', { ...base, ALGORITHMS: 'HS256' }],
    ['ALGORITHMS', { ...base, ALGORITHMS: 'RS1' }],
    ['CLOCK_SKEW_SECONDS', { ...base, CLOCK_SKEW_SECONDS: '-1' }],
    ['CLOCK_SKEW_SECONDS', { ...base, CLOCK_SKEW_SECONDS: '1.5' }],
    ['JWKS_CACHE_TTL_SECONDS', { ...base, JWKS_CACHE_TTL_SECONDS: '0' }],
    ['JWKS_CACHE_TTL_SECONDS', { ...base, JWKS_CACHE_TTL_SECONDS: '86401' }],
    ['JWKS_REFRESH_COOLDOWN_SECONDS', { ...base, JWKS_REFRESH_COOLDOWN_SECONDS: '0' }],
    ['PUBLIC_PATHS', { ...base, PUBLIC_PATHS: 'health' }],
    ['PUBLIC_PATHS', { ...base, PUBLIC_PATHS: '/a*b' }],
    ['REQUIRED_SCOPES', { ...base, REQUIRED_SCOPES: 'read "admin"' }],
    ['REALM', { ...base, REALM: 'a"b' }],
    ['TOKEN_SOURCES', { ...base, TOKEN_SOURCES: 'authorization,bearer' }],
    ['INTROSPECTION_CLIENT_ID', { ...base, INTROSPECTION_CLIENT_SECRET: 'S' }],
    ['INTROSPECTION_CLIENT_SECRET', { ...base, INTROSPECTION_CLIENT_ID: 'c' }],
    ['INTROSPECT', { ...base, INTROSPECTION_CLIENT_ID: 'c', INTROSPECTION_CLIENT_SECRET: 'S', INTROSPECT: 'jwt' }],
    [
      'INTROSPECTION_CACHE_SECONDS',
      { ...base, INTROSPECTION_CLIENT_ID: 'c', INTROSPECTION_CLIENT_SECRET: 'S', INTROSPECTION_CACHE_SECONDS: '1.5' },
    ],
    ['TOKEN_SOURCES', { ...base, TOKEN_SOURCES: 'header:Authorization' }],
    ['SCOPE_CLAIMS', { ...base, SCOPE_CLAIMS: ' , ' }],
  ])('names %s when it is invalid', (variable, vars) => {
    expect(problem(vars)).toBe(variable);
  });

  it('allows http key sources on loopback hosts only', () => {
    for (const host of ['localhost', '127.0.0.1', '[::1]', '127.1.2.3']) {
      expect(() =>
        parseConfig({ ...base, ISSUER: `http://${host}:8080/`, JWKS_URI: `http://${host}:8080/jwks` }),
      ).not.toThrow();
    }
  });
});

it('leaves ORIGIN optional for the middleware, but the gateway requires it', async () => {
  const { createApp } = await import('../src/worker/app.ts');
  const config = parseConfig({ ...base, ORIGIN: undefined });
  expect(config.origin).toBeUndefined();
  expect(() => createApp(config)).toThrow(ConfigError);
});

it('forwards through the ORIGIN_SERVICE binding when the Worker has one and no ORIGIN', async () => {
  const { createApp } = await import('../src/worker/app.ts');
  const config = parseConfig({ ...base, ORIGIN: undefined, ORIGIN_SERVICE_BOUND: true });
  expect(config.originService).toBe('ORIGIN_SERVICE');
  expect(() => createApp(config)).not.toThrow();
});

describe('a misconfigured Worker', () => {
  beforeEach(() => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
  });

  it('answers every request with 500 problem+json naming the variable, logs it, and forwards nothing', async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const vars = varsFor(issuer, origin, { AUDIENCE: '' });
    const noOrigin = await callWorker(bearer(await issuer.mint()), varsFor(issuer, origin, { ORIGIN: undefined }));
    expect(noOrigin.status).toBe(500);
    expect(((await noOrigin.json()) as { detail: string }).detail).toBe('ORIGIN is required');
    for (const request of [bearer(await issuer.mint()), new Request('https://api.example.test/health')]) {
      const response = await callWorker(request, vars);
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('www-authenticate')).toBeNull();
      const body = (await response.json()) as { code: string; detail: string };
      expect(body.code).toBe('config_invalid');
      expect(body.detail).toContain('AUDIENCE');
    }
    expect(await origin.hits()).toBe(0);
    expect(
      log.mock.calls.some(([line]) => String(line).includes('config_invalid') && String(line).includes('AUDIENCE')),
    ).toBe(true);
  });
});
