import { beforeEach, describe, expect, it, vi } from 'vitest';
import committed from '../policy.schema.json';
import { type Config, parseConfig } from '../src/config.ts';
import type { Env } from '../src/env.ts';
import { ConfigError } from '../src/errors.ts';
import { policyJsonSchema } from '../src/policy/json-schema.ts';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { bearer, callWorker, WORKER_URL } from './helpers/worker.ts';

/** Every member the policy has, so the schema walk below sees them all. */
const fullPolicy = {
  $schema: './policy.schema.json',
  issuers: {
    corp: {
      issuer: 'https://corp.example/',
      audiences: ['https://api.example.test', 'https://other.example.test'],
      jwks_uri: 'https://corp.example/keys',
      token_types: ['application/AT+JWT', 'JWT'],
      required_claims: ['sub', 'tenant.id'],
      decryption_keys: 'CORP_DECRYPTION_KEYS',
    },
    partner: {
      issuer: 'https://partner.example/',
      client_ids: ['partner-app'],
      algorithms: ['ES256', 'EdDSA'],
      clock_skew_seconds: 5,
      jwks_cache_ttl_seconds: 120,
      jwks_refresh_cooldown_seconds: 10,
    },
  },
  routes: [
    { path: '/health', access: 'public' },
    {
      path: '/admin/*',
      methods: ['GET', 'DELETE'],
      access: 'required',
      issuers: ['corp'],
      scopes: { all: ['admin'], any: ['read', 'write'] },
      claims: [
        { claim: 'tenant.id', equals: 'acme' },
        { claim: 'role', one_of: ['owner', 'editor'] },
        { claim: 'groups', contains: 'staff' },
      ],
      origin: 'https://admin.origin.example/base/',
      identity_assertion: {
        signing_key: 'ADMIN_ASSERTION_KEYS',
        issuer: 'https://edge.example/admin',
        header: 'X-Admin-Assertion',
        lifetime_seconds: 30,
      },
      rate_limit: { binding: 'PER_CALLER', period_seconds: 60, key: 'sub' },
    },
    { path: '/*', access: 'optional', issuers: ['partner', 'corp'] },
  ],
  origin: 'https://origin.example/',
  realm: 'policy realm',
  headers: {
    'X-User-Email': 'email',
    'X-Groups': { claim: 'groups', format: 'csv' },
    'X-Tenant': { claim: 'tenant', format: 'json' },
  },
  sign_headers: { secret: 'IDENTITY_KEY' },
  forward_authorization: false,
  resource: { resource: 'https://api.example.test/v1', scopes_supported: ['read', 'write', 'admin'] },
  identity_assertion: {
    signing_key: 'ASSERTION_KEYS',
    issuer: 'https://edge.example/',
    claims: ['sub', 'email'],
    jwks_path: '/keys.json',
  },
};

/** The smallest policy: one issuer with an audience, one route. */
function minimalPolicy(issuer: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuers: { corp: { issuer: 'https://corp.example/', audiences: ['https://api.example.test'], ...issuer } },
    routes: [{ path: '/*', access: 'required' }],
  };
}

const DEFAULT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA', 'Ed25519'];

function configError(vars: Env): ConfigError {
  try {
    parseConfig(vars);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('a full policy', () => {
  it('compiles into the expected Config, with routes holding the same issuer objects', () => {
    const config = parseConfig({ POLICY: fullPolicy });
    const corp = {
      id: 'corp',
      issuer: 'https://corp.example/',
      accepted: [{ exact: 'https://corp.example/' }],
      tenants: undefined,
      tenantClaim: 'tid',
      audiences: ['https://api.example.test', 'https://other.example.test'],
      clientIds: [],
      jwksUri: 'https://corp.example/keys',
      algorithms: DEFAULT_ALGORITHMS,
      clockSkewSeconds: 60,
      jwksCacheTtlSeconds: 600,
      jwksRefreshCooldownSeconds: 30,
      tokenTypes: ['at+jwt', 'jwt'],
      requiredClaims: ['sub', 'tenant.id'],
      scopeClaims: ['scope', 'scp'],
      decryptionKeys: 'CORP_DECRYPTION_KEYS',
      hmacSecret: undefined,
      introspection: undefined,
      dpop: 'off',
    };
    const partner = {
      id: 'partner',
      issuer: 'https://partner.example/',
      accepted: [{ exact: 'https://partner.example/' }],
      tenants: undefined,
      tenantClaim: 'tid',
      audiences: [],
      clientIds: ['partner-app'],
      jwksUri: undefined,
      algorithms: ['ES256', 'EdDSA', 'Ed25519'],
      clockSkewSeconds: 5,
      jwksCacheTtlSeconds: 120,
      jwksRefreshCooldownSeconds: 10,
      tokenTypes: undefined,
      requiredClaims: [],
      scopeClaims: ['scope', 'scp'],
      decryptionKeys: undefined,
      hmacSecret: undefined,
      introspection: undefined,
      dpop: 'off',
    };
    expect(config).toStrictEqual({
      issuers: [corp, partner],
      routes: [
        {
          path: { exact: '/health' },
          methods: undefined,
          access: 'public',
          issuers: [],
          scopes: { all: [], any: [] },
          claims: [],
          origin: undefined,
          originService: undefined,
          originTimeoutMs: undefined,
          dpop: undefined,
          pathParameters: undefined,
          tokenSources: undefined,
          identityAssertion: undefined,
          rateLimit: undefined,
        },
        {
          path: { prefix: '/admin/' },
          methods: ['GET', 'DELETE'],
          access: 'required',
          issuers: [corp],
          scopes: { all: ['admin'], any: ['read', 'write'] },
          claims: [
            { claim: 'tenant.id', equals: 'acme' },
            { claim: 'role', oneOf: ['owner', 'editor'] },
            { claim: 'groups', contains: 'staff' },
          ],
          origin: 'https://admin.origin.example/base',
          originService: undefined,
          originTimeoutMs: undefined,
          dpop: undefined,
          pathParameters: undefined,
          tokenSources: undefined,
          identityAssertion: {
            signingKey: 'ADMIN_ASSERTION_KEYS',
            issuer: 'https://edge.example/admin',
            header: 'x-admin-assertion',
            lifetimeSeconds: 30,
            claims: ['sub', 'scope'],
          },
          rateLimit: { binding: 'PER_CALLER', periodSeconds: 60, key: { kind: 'claim', claim: 'sub' } },
        },
        {
          path: { prefix: '/' },
          methods: undefined,
          access: 'optional',
          issuers: [partner, corp],
          scopes: { all: [], any: [] },
          claims: [],
          origin: undefined,
          originService: undefined,
          originTimeoutMs: undefined,
          dpop: undefined,
          pathParameters: undefined,
          tokenSources: undefined,
          identityAssertion: {
            signingKey: 'ASSERTION_KEYS',
            issuer: 'https://edge.example/',
            header: 'x-auth-assertion',
            lifetimeSeconds: 60,
            claims: ['sub', 'email'],
          },
          rateLimit: undefined,
        },
      ],
      origin: 'https://origin.example',
      originService: undefined,
      originTimeoutMs: 30_000,
      realm: 'policy realm',
      headers: [
        { name: 'x-user-email', claim: 'email', format: 'text' },
        { name: 'x-groups', claim: 'groups', format: 'csv' },
        { name: 'x-tenant', claim: 'tenant', format: 'json' },
      ],
      signingSecret: 'IDENTITY_KEY',
      forwardAuthorization: false,
      tokenSources: [{ kind: 'authorization' }],
      paths: { mergeSlashes: true, caseSensitive: true, pathParameters: 'refuse' },
      forwardOverrideHeaders: false,
      resource: {
        resource: 'https://api.example.test/v1',
        metadataPath: '/.well-known/oauth-protected-resource/v1',
        metadataUrl: 'https://api.example.test/.well-known/oauth-protected-resource/v1',
        authorizationServers: ['https://corp.example/', 'https://partner.example/'],
        scopesSupported: ['read', 'write', 'admin'],
      },
      identityAssertions: {
        jwksPath: '/keys.json',
        signingKeys: ['ASSERTION_KEYS', 'ADMIN_ASSERTION_KEYS'],
        headers: ['x-auth-assertion', 'x-admin-assertion'],
      },
    });
    const [corpConfig, partnerConfig] = config.issuers;
    expect(config.routes[1]?.issuers[0]).toBe(corpConfig);
    expect(config.routes[2]?.issuers[0]).toBe(partnerConfig);
    expect(config.routes[2]?.issuers[1]).toBe(corpConfig);
  });

  it('fills the defaults of an issuer and of the policy', () => {
    const config = parseConfig({ POLICY: minimalPolicy() });
    expect(config.issuers).toStrictEqual([
      {
        id: 'corp',
        issuer: 'https://corp.example/',
        accepted: [{ exact: 'https://corp.example/' }],
        tenants: undefined,
        tenantClaim: 'tid',
        audiences: ['https://api.example.test'],
        clientIds: [],
        jwksUri: undefined,
        algorithms: DEFAULT_ALGORITHMS,
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
      },
    ]);
    // One issuer: a route that names none trusts it.
    expect(config.routes[0]?.issuers).toHaveLength(1);
    expect(config.routes[0]?.issuers[0]).toBe(config.issuers[0]);
    expect(config).toMatchObject({
      origin: undefined,
      originService: undefined,
      realm: 'api',
      headers: [],
      signingSecret: undefined,
      forwardAuthorization: true,
      resource: undefined,
    });
  });

  it('takes origin and realm from ORIGIN and REALM when the policy has none', () => {
    const config = parseConfig({ POLICY: minimalPolicy(), ORIGIN: 'https://fallback.example/base/', REALM: 'vars' });
    expect(config.origin).toBe('https://fallback.example/base');
    expect(config.realm).toBe('vars');
  });

  it("lets the policy's own origin and realm win over ORIGIN and REALM", () => {
    const config = parseConfig({
      POLICY: { ...minimalPolicy(), origin: 'https://policy.example', realm: 'policy' },
      ORIGIN: 'https://fallback.example',
      REALM: 'vars',
    });
    expect(config.origin).toBe('https://policy.example');
    expect(config.realm).toBe('policy');
  });

  it('normalises token types (RFC 9068 §4)', () => {
    const config = parseConfig({ POLICY: minimalPolicy({ token_types: ['application/AT+JWT', 'At+Jwt', 'jwt'] }) });
    expect(config.issuers[0]?.tokenTypes).toEqual(['at+jwt', 'at+jwt', 'jwt']);
  });

  it('publishes every issuer as an authorization server unless the policy names them', () => {
    const named = parseConfig({
      POLICY: {
        ...fullPolicy,
        resource: { resource: 'https://api.example.test', authorization_servers: ['https://as.example/'] },
      },
    });
    expect(named.resource).toStrictEqual({
      resource: 'https://api.example.test',
      metadataPath: '/.well-known/oauth-protected-resource',
      metadataUrl: 'https://api.example.test/.well-known/oauth-protected-resource',
      authorizationServers: ['https://as.example/'],
      scopesSupported: undefined,
    });
  });
});

describe('POLICY as an object or a string', () => {
  it('gives the same Config from an object and from its JSON text', () => {
    const fromObject: Config = parseConfig({ POLICY: fullPolicy });
    const fromText: Config = parseConfig({ POLICY: JSON.stringify(fullPolicy) });
    expect(fromText).toStrictEqual(fromObject);
    expect(fromText.routes[1]?.issuers[0]).toBe(fromText.issuers[0]);
  });

  it.each(['{', '{ issuers: {} }', '{"issuers": {},}'])('refuses text that is not JSON: %s', (text) => {
    const error = configError({ POLICY: text });
    expect(error.variable).toBe('POLICY');
    expect(error.code).toBe('config_invalid');
    expect(error.detail).toBe('POLICY is not valid JSON');
  });
});

describe('POLICY beside the flat variables', () => {
  it.each([
    ['ISSUER', 'https://issuer.example/'],
    ['AUDIENCE', 'https://api.example'],
    ['JWKS_URI', 'https://issuer.example/jwks'],
    ['ALGORITHMS', 'RS256'],
    ['REQUIRED_SCOPES', 'read'],
    ['CLOCK_SKEW_SECONDS', '60'],
    ['JWKS_CACHE_TTL_SECONDS', '600'],
    ['JWKS_REFRESH_COOLDOWN_SECONDS', '30'],
    ['PUBLIC_PATHS', '/health'],
    ['CLIENT_IDS', 'app'],
    ['RESOURCE', 'https://api.example'],
  ])('refuses POLICY together with %s, naming both', (name, value) => {
    const error = configError({ POLICY: minimalPolicy(), [name]: value });
    expect(error.code).toBe('config_invalid');
    expect(error.variable).toBe('POLICY');
    expect(error.detail).toMatch(/^POLICY /);
    expect(error.detail).toContain(name);
  });

  it('names every flat variable set beside it', () => {
    const error = configError({ POLICY: minimalPolicy(), ISSUER: 'https://issuer.example/', RESOURCE: 'x' });
    expect(error.detail).toContain('ISSUER, RESOURCE');
  });

  it('accepts ORIGIN and REALM beside it, and ignores empty flat variables', () => {
    expect(() =>
      parseConfig({ POLICY: minimalPolicy(), ORIGIN: 'https://origin.example', REALM: 'r', ISSUER: '' }),
    ).not.toThrow();
  });
});

/** One change to a policy: the keys down to a member, and its new value (`undefined`: the member removed). */
type Edit = readonly [keys: readonly (string | number)[], value: unknown];

function edit(keys: readonly (string | number)[], value: unknown): Edit {
  return [keys, value];
}

function remove(keys: readonly (string | number)[]): Edit {
  return [keys, undefined];
}

/** A policy with two issuers and three routes (so `routes[2]` exists), with one change applied. */
function policyWith([keys, value]: Edit): Record<string, unknown> {
  const policy: Record<string, unknown> = {
    issuers: {
      corp: { issuer: 'https://corp.example/', audiences: ['https://api.example.test'] },
      partner: { issuer: 'https://partner.example/', client_ids: ['app'] },
    },
    routes: [
      { path: '/health', access: 'public' },
      { path: '/partner/*', access: 'required', issuers: ['partner'] },
      { path: '/*', access: 'required', issuers: ['corp'], scopes: { any: ['read'] } },
    ],
  };
  // `_mapped`: a mapped header of the same name as the assertion's.
  if ((value as { _mapped?: boolean } | undefined)?._mapped) {
    const { _mapped, ...assertion } = value as Record<string, unknown>;
    policy.headers = { 'x-auth-assertion': 'sub' };
    value = assertion;
  }
  let node = policy as Record<string | number, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = keys[keys.length - 1] as string | number;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return policy;
}

const corpKeys = ['issuers', 'corp'];
const ASSERTION = { signing_key: 'ASSERTION_KEYS', issuer: 'https://edge.example/' };
const route = (i: number, ...keys: string[]) => ['routes', i, ...keys];

describe('an invalid policy', () => {
  it.each<[string, string, Edit]>([
    ['a scope with a space', 'POLICY.routes[2].scopes.any[0]', edit(route(2, 'scopes', 'any'), ['read write'])],
    ['a scope with a quote', 'POLICY.routes[2].scopes.any[0]', edit(route(2, 'scopes', 'any'), ['a"b'])],
    ['an empty scope in all', 'POLICY.routes[2].scopes.all[1]', edit(route(2, 'scopes', 'all'), ['read', ''])],
    [
      'an http issuer off loopback',
      'POLICY.issuers.corp.issuer',
      edit([...corpKeys, 'issuer'], 'http://corp.example/'),
    ],
    ['an issuer that is not a URL', 'POLICY.issuers.corp.issuer', edit([...corpKeys, 'issuer'], 'corp')],
    [
      'an http jwks_uri off loopback',
      'POLICY.issuers.corp.jwks_uri',
      edit([...corpKeys, 'jwks_uri'], 'http://k.example/'),
    ],
    ['a jwks_uri that is not a URL', 'POLICY.issuers.corp.jwks_uri', edit([...corpKeys, 'jwks_uri'], '/jwks')],
    ['neither audiences nor client_ids', 'POLICY.issuers.corp', remove([...corpKeys, 'audiences'])],
    ['empty audiences and no client_ids', 'POLICY.issuers.corp', edit([...corpKeys, 'audiences'], [])],
    ['an empty audience', 'POLICY.issuers.corp.audiences[0]', edit([...corpKeys, 'audiences'], [''])],
    ['algorithm HS256', 'POLICY.issuers.corp.algorithms[0]', edit([...corpKeys, 'algorithms'], ['HS256'])],
    ['algorithm none', 'POLICY.issuers.corp.algorithms[0]', edit([...corpKeys, 'algorithms'], ['none'])],
    [
      'a second algorithm none',
      'POLICY.issuers.corp.algorithms[1]',
      edit([...corpKeys, 'algorithms'], ['RS256', 'none']),
    ],
    ['no algorithm', 'POLICY.issuers.corp.algorithms', edit([...corpKeys, 'algorithms'], [])],
    ['a TTL of 0', 'POLICY.issuers.corp.jwks_cache_ttl_seconds', edit([...corpKeys, 'jwks_cache_ttl_seconds'], 0)],
    [
      'a TTL above a day',
      'POLICY.issuers.corp.jwks_cache_ttl_seconds',
      edit([...corpKeys, 'jwks_cache_ttl_seconds'], 86_401),
    ],
    [
      'a fractional TTL',
      'POLICY.issuers.corp.jwks_cache_ttl_seconds',
      edit([...corpKeys, 'jwks_cache_ttl_seconds'], 1.5),
    ],
    [
      'a TTL as a string',
      'POLICY.issuers.corp.jwks_cache_ttl_seconds',
      edit([...corpKeys, 'jwks_cache_ttl_seconds'], '30'),
    ],
    ['a clock skew of 601', 'POLICY.issuers.corp.clock_skew_seconds', edit([...corpKeys, 'clock_skew_seconds'], 601)],
    [
      'a cooldown of 0',
      'POLICY.issuers.corp.jwks_refresh_cooldown_seconds',
      edit([...corpKeys, 'jwks_refresh_cooldown_seconds'], 0),
    ],
    ['no token type', 'POLICY.issuers.corp.token_types', edit([...corpKeys, 'token_types'], [])],
    ['a misspelt issuer member', 'POLICY.issuers.corp.audience', edit([...corpKeys, 'audience'], ['x'])],
    [
      'an issuer id that is not an identifier',
      'POLICY.issuers["my corp"].issuer',
      edit(['issuers', 'my corp'], { issuer: 'x', audiences: ['a'] }),
    ],
    ['no issuer', 'POLICY.issuers', edit(['issuers'], {})],
    ['no issuers member', 'POLICY.issuers', remove(['issuers'])],
    ['no route', 'POLICY.routes', edit(['routes'], [])],
    ['a relative path', 'POLICY.routes[0].path', edit(route(0, 'path'), 'api')],
    ['a star inside a path', 'POLICY.routes[0].path', edit(route(0, 'path'), '/a*b')],
    ['a path with a query', 'POLICY.routes[0].path', edit(route(0, 'path'), '/a?b')],
    ['a lower-case method', 'POLICY.routes[0].methods[0]', edit(route(0, 'methods'), ['get'])],
    ['no method', 'POLICY.routes[0].methods', edit(route(0, 'methods'), [])],
    ['an unknown access', 'POLICY.routes[0].access', edit(route(0, 'access'), 'private')],
    ['no access', 'POLICY.routes[0].access', remove(route(0, 'access'))],
    ['an unknown issuer id', 'POLICY.routes[1].issuers[1]', edit(route(1, 'issuers'), ['partner', 'nope'])],
    ['no issuer on a route', 'POLICY.routes[1].issuers', edit(route(1, 'issuers'), [])],
    ['issuers absent with two issuers', 'POLICY.routes[1].issuers', remove(route(1, 'issuers'))],
    ['scopes on a public route', 'POLICY.routes[0].scopes', edit(route(0, 'scopes'), { all: ['read'] })],
    ['issuers on a public route', 'POLICY.routes[0].issuers', edit(route(0, 'issuers'), ['corp'])],
    ['claims on a public route', 'POLICY.routes[0].claims', edit(route(0, 'claims'), [])],
    ['an empty scopes.any', 'POLICY.routes[2].scopes.any', edit(route(2, 'scopes', 'any'), [])],
    ['an unknown scopes member', 'POLICY.routes[2].scopes.one', edit(route(2, 'scopes', 'one'), ['read'])],
    ['a claim rule with no test', 'POLICY.routes[2].claims[0]', edit(route(2, 'claims'), [{ claim: 'role' }])],
    [
      'a claim rule with two tests',
      'POLICY.routes[2].claims[1]',
      edit(route(2, 'claims'), [
        { claim: 'a', equals: 1 },
        { claim: 'role', equals: 'x', contains: 'y' },
      ]),
    ],
    [
      'a claim rule comparing with an object',
      'POLICY.routes[2].claims[0]',
      edit(route(2, 'claims'), [{ claim: 'role', equals: { a: 1 } }]),
    ],
    ['an empty one_of', 'POLICY.routes[2].claims[0].one_of', edit(route(2, 'claims'), [{ claim: 'role', one_of: [] }])],
    ['an ftp route origin', 'POLICY.routes[2].origin', edit(route(2, 'origin'), 'ftp://origin.example')],
    ['a route origin with a query', 'POLICY.routes[2].origin', edit(route(2, 'origin'), 'https://o.example/?a=b')],
    [
      'a route origin with an empty fragment',
      'POLICY.routes[2].origin',
      edit(route(2, 'origin'), 'https://o.example/#'),
    ],
    ['a policy origin with a fragment', 'POLICY.origin', edit(['origin'], 'https://o.example/#top')],
    ['a policy origin with an empty query', 'POLICY.origin', edit(['origin'], 'https://o.example/base?')],
    ['an unknown route member', 'POLICY.routes[1].scope', edit(route(1, 'scope'), 'read')],
    ['header Host', 'POLICY.headers.Host', edit(['headers'], { Host: 'sub' })],
    ['header Connection', 'POLICY.headers.Connection', edit(['headers'], { Connection: 'sub' })],
    [
      'header Transfer-Encoding',
      'POLICY.headers["Transfer-Encoding"]',
      edit(['headers'], { 'Transfer-Encoding': 'sub' }),
    ],
    ['header Authorization', 'POLICY.headers.Authorization', edit(['headers'], { Authorization: 'sub' })],
    ['header X-Auth-Signature', 'POLICY.headers["X-Auth-Signature"]', edit(['headers'], { 'X-Auth-Signature': 'sub' })],
    ['header X-Auth-Subject', 'POLICY.headers["X-Auth-Subject"]', edit(['headers'], { 'X-Auth-Subject': 'sub' })],
    ['header x-auth-claims', 'POLICY.headers["x-auth-claims"]', edit(['headers'], { 'x-auth-claims': 'sub' })],
    ['a header name with a space', 'POLICY.headers["Bad Name"]', edit(['headers'], { 'Bad Name': 'sub' })],
    [
      'two headers differing only in case',
      'POLICY.headers["x-user-email"]',
      edit(['headers'], { 'X-User-Email': 'email', 'x-user-email': 'mail' }),
    ],
    [
      'an unknown header format',
      'POLICY.headers["X-Groups"]',
      edit(['headers'], { 'X-Groups': { claim: 'g', format: 'xml' } }),
    ],
    ['an empty header claim', 'POLICY.headers["X-Groups"]', edit(['headers'], { 'X-Groups': '' })],
    [
      'a secret name that is not an identifier',
      'POLICY.sign_headers.secret',
      edit(['sign_headers'], { secret: 'my-key' }),
    ],
    ['forward_authorization as a string', 'POLICY.forward_authorization', edit(['forward_authorization'], 'false')],
    [
      'an http resource off loopback',
      'POLICY.resource.resource',
      edit(['resource'], { resource: 'http://api.example.test' }),
    ],
    [
      'a resource with a query',
      'POLICY.resource.resource',
      edit(['resource'], { resource: 'https://api.example.test/?a=b' }),
    ],
    [
      'a resource with an empty query',
      'POLICY.resource.resource',
      edit(['resource'], { resource: 'https://api.example.test/?' }),
    ],
    [
      'a resource with a fragment',
      'POLICY.resource.resource',
      edit(['resource'], { resource: 'https://api.example.test/#frag' }),
    ],
    [
      'a resource with an empty fragment',
      'POLICY.resource.resource',
      edit(['resource'], { resource: 'https://api.example.test/#' }),
    ],
    ['a resource that is not a URL', 'POLICY.resource.resource', edit(['resource'], { resource: 'api' })],
    [
      'a supported scope with a space',
      'POLICY.resource.scopes_supported[0]',
      edit(['resource'], { resource: 'https://api.example.test', scopes_supported: ['a b'] }),
    ],
    ['a realm with a quote', 'POLICY.realm', edit(['realm'], 'a"b')],
    [
      'an identity assertion header that is ours already',
      'POLICY.identity_assertion.header',
      edit(['identity_assertion'], { ...ASSERTION, header: 'X-Auth-Subject' }),
    ],
    [
      'an identity assertion header the network rewrites',
      'POLICY.identity_assertion.header',
      edit(['identity_assertion'], { ...ASSERTION, header: 'CF-Access-Jwt-Assertion' }),
    ],
    [
      'an identity assertion header that a mapped header names',
      'POLICY.identity_assertion.header',
      edit(['identity_assertion'], { ...ASSERTION, header: 'X-Auth-Assertion', _mapped: true }),
    ],
    [
      'an identity assertion issuer over http off loopback',
      'POLICY.identity_assertion.issuer',
      edit(['identity_assertion'], { ...ASSERTION, issuer: 'http://edge.example' }),
    ],
    [
      'an identity assertion lifetime over 300 s',
      'POLICY.identity_assertion.lifetime_seconds',
      edit(['identity_assertion'], { ...ASSERTION, lifetime_seconds: 301 }),
    ],
    [
      'an identity assertion lifetime under 5 s',
      'POLICY.identity_assertion.lifetime_seconds',
      edit(['identity_assertion'], { ...ASSERTION, lifetime_seconds: 4 }),
    ],
    [
      'an identity assertion claim listed twice',
      'POLICY.identity_assertion.claims[2]',
      edit(['identity_assertion'], { ...ASSERTION, claims: ['sub', 'email', 'email'] }),
    ],
    [
      'an identity assertion secret name that is not one',
      'POLICY.identity_assertion.signing_key',
      edit(['identity_assertion'], { ...ASSERTION, signing_key: 'assertion-keys' }),
    ],
    [
      'a jwks_path that is not an exact path',
      'POLICY.identity_assertion.jwks_path',
      edit(['identity_assertion'], { ...ASSERTION, jwks_path: '/keys/*' }),
    ],
    [
      'a jwks_path on a route',
      'POLICY.routes[2].identity_assertion',
      edit(route(2, 'identity_assertion'), { ...ASSERTION, jwks_path: '/keys.json' }),
    ],
    [
      'an identity assertion object on a public route',
      'POLICY.routes[0].identity_assertion',
      edit(route(0, 'identity_assertion'), ASSERTION),
    ],
    [
      'identity_assertion true on a route',
      'POLICY.routes[2].identity_assertion',
      edit(route(2, 'identity_assertion'), true),
    ],
    ['a realm with a backslash', 'POLICY.realm', edit(['realm'], 'a\\b')],
    ['an unknown top-level member', 'POLICY.unknown', edit(['unknown'], true)],
    [
      'an hmac_secret that is not a secret name',
      'POLICY.issuers.corp.hmac_secret',
      edit([...corpKeys, 'hmac_secret'], 'my-secret'),
    ],
    [
      'HS512 without hmac_secret',
      'POLICY.issuers.corp.algorithms[1]',
      edit([...corpKeys, 'algorithms'], ['RS256', 'HS512']),
    ],
    [
      'introspection without client_id',
      'POLICY.issuers.corp.introspection.client_id',
      edit([...corpKeys, 'introspection'], { client_secret: 'S' }),
    ],
    [
      'an introspection secret that is not a secret name',
      'POLICY.issuers.corp.introspection.client_secret',
      edit([...corpKeys, 'introspection'], { client_id: 'c', client_secret: 'my-secret' }),
    ],
    [
      'introspection tokens some',
      'POLICY.issuers.corp.introspection.tokens',
      edit([...corpKeys, 'introspection'], { client_id: 'c', client_secret: 'S', tokens: 'some' }),
    ],
    [
      'an introspection cache of 3601 s',
      'POLICY.issuers.corp.introspection.cache_seconds',
      edit([...corpKeys, 'introspection'], { client_id: 'c', client_secret: 'S', cache_seconds: 3601 }),
    ],
    [
      'an http introspection endpoint',
      'POLICY.issuers.corp.introspection.endpoint',
      edit([...corpKeys, 'introspection'], {
        client_id: 'c',
        client_secret: 'S',
        endpoint: 'http://id.example/introspect',
      }),
    ],
    [
      'an unknown introspection member',
      'POLICY.issuers.corp.introspection.secret',
      edit([...corpKeys, 'introspection'], { client_id: 'c', client_secret: 'S', secret: 'x' }),
    ],
    ['an empty scope_claims', 'POLICY.issuers.corp.scope_claims', edit([...corpKeys, 'scope_claims'], [])],
    [
      'a scope claim path with no segment',
      'POLICY.issuers.corp.scope_claims[0]',
      edit([...corpKeys, 'scope_claims'], [[]]),
    ],
    [
      'a scope claim path with an empty segment',
      'POLICY.issuers.corp.scope_claims[0][1]',
      edit([...corpKeys, 'scope_claims'], [['a', '']]),
    ],
    [
      'a required claim that is a number',
      'POLICY.issuers.corp.required_claims[0]',
      edit([...corpKeys, 'required_claims'], [1]),
    ],
    ['an unknown token source', 'POLICY.token_sources[0]', edit(['token_sources'], ['bearer'])],
    ['no token source', 'POLICY.token_sources', edit(['token_sources'], [])],
    [
      'a token header that is not a name',
      'POLICY.token_sources[0].header',
      edit(['token_sources'], [{ header: 'Bad Name' }]),
    ],
    [
      'Authorization as a token header',
      'POLICY.token_sources[0].header',
      edit(['token_sources'], [{ header: 'Authorization' }]),
    ],
    ['Cookie as a token header', 'POLICY.token_sources[0].header', edit(['token_sources'], [{ header: 'Cookie' }])],
    ['a repeated token source', 'POLICY.token_sources[1]', edit(['token_sources'], [{ cookie: 'a' }, { cookie: 'a' }])],
    [
      'a token source with two kinds',
      'POLICY.token_sources[0]',
      edit(['token_sources'], [{ cookie: 'a', query: 'b' }]),
    ],
    [
      'a route token cookie with a semicolon',
      'POLICY.routes[1].token_sources[0].cookie',
      edit(route(1, 'token_sources'), [{ cookie: 'a;b' }]),
    ],
    ['path_parameters drop', 'POLICY.path_parameters', edit(['path_parameters'], 'drop')],
    ['a route path_parameters strip', 'POLICY.routes[1].path_parameters', edit(route(1, 'path_parameters'), 'strip')],
    ['merge_slashes as a string', 'POLICY.merge_slashes', edit(['merge_slashes'], 'true')],
    ['case_sensitive as a number', 'POLICY.case_sensitive', edit(['case_sensitive'], 0)],
    [
      'forward_override_headers as a string',
      'POLICY.forward_override_headers',
      edit(['forward_override_headers'], 'yes'),
    ],
    ['a path with an encoded unreserved character', 'POLICY.routes[1].path', edit(route(1, 'path'), '/%61dmin/*')],
    ['a path with dot segments', 'POLICY.routes[1].path', edit(route(1, 'path'), '/x/../admin/*')],
    ['a path with an empty segment', 'POLICY.routes[1].path', edit(route(1, 'path'), '/admin//x')],
    ['a path with an encoded slash', 'POLICY.routes[1].path', edit(route(1, 'path'), '/a%2Fb/*')],
    ['a path with a trailing dot', 'POLICY.routes[0].path', edit(route(0, 'path'), '/health.')],
    ['a path with ; where parameters are refused', 'POLICY.routes[0].path', edit(route(0, 'path'), '/health;v=1')],
  ])('names the path of %s', (_case, path, change) => {
    const error = configError({ POLICY: policyWith(change) });
    expect(error.code).toBe('config_invalid');
    expect(error.variable).toBe(path);
    expect(error.detail?.startsWith(`${path}: `)).toBe(true);
    expect(error.message).toBe(`verifier misconfigured: ${error.detail}`);
  });

  it('names the index the policy wrote when a route repeats an issuer id before an unknown one', () => {
    const error = configError({ POLICY: policyWith(edit(route(1, 'issuers'), ['partner', 'partner', 'nope'])) });
    expect(error.variable).toBe('POLICY.routes[1].issuers[2]');
  });

  it('says which normalised form a route path must be written in', () => {
    expect(configError({ POLICY: policyWith(edit(route(1, 'path'), '/%61dmin/*')) }).problem).toBe(
      'is not in the normalised form requests are matched in: write /admin/*',
    );
  });

  it('accepts a path holding ; on a route that keeps path parameters', () => {
    const policy = { ...minimalPolicy(), routes: [{ path: '/h;v=1/*', access: 'required', path_parameters: 'keep' }] };
    expect(parseConfig({ POLICY: policy }).routes[0]?.pathParameters).toBe('keep');
    expect(
      parseConfig({
        POLICY: { ...policy, routes: [{ path: '/h;v=1/*', access: 'required' }], path_parameters: 'keep' },
      }).paths.pathParameters,
    ).toBe('keep');
  });

  it('refuses a public path that is not in normal form in PUBLIC_PATHS', () => {
    const error = configError({ ISSUER: 'https://corp.example/', AUDIENCE: 'a', PUBLIC_PATHS: '/%70ublic/*' });
    expect(error.variable).toBe('PUBLIC_PATHS');
  });

  it('refuses a policy that is not an object', () => {
    expect(configError({ POLICY: 'null' }).variable).toBe('POLICY');
    expect(configError({ POLICY: '"text"' }).variable).toBe('POLICY');
  });
});

describe('JWKS cache TTL', () => {
  it('accepts 30 s from POLICY and from JWKS_CACHE_TTL_SECONDS', () => {
    const fromPolicy = parseConfig({ POLICY: minimalPolicy({ jwks_cache_ttl_seconds: 30 }) });
    expect(fromPolicy.issuers[0]?.jwksCacheTtlSeconds).toBe(30);
    const fromVariable = parseConfig({
      ISSUER: 'https://corp.example/',
      AUDIENCE: 'https://api.example.test',
      JWKS_CACHE_TTL_SECONDS: '30',
    });
    expect(fromVariable.issuers[0]?.jwksCacheTtlSeconds).toBe(30);
  });

  it('refuses 0 from POLICY and from JWKS_CACHE_TTL_SECONDS', () => {
    expect(configError({ POLICY: minimalPolicy({ jwks_cache_ttl_seconds: 0 }) }).variable).toBe(
      'POLICY.issuers.corp.jwks_cache_ttl_seconds',
    );
    expect(
      configError({
        ISSUER: 'https://corp.example/',
        AUDIENCE: 'https://api.example.test',
        JWKS_CACHE_TTL_SECONDS: '0',
      }).variable,
    ).toBe('JWKS_CACHE_TTL_SECONDS');
  });
});

describe('a Worker with an invalid POLICY', () => {
  beforeEach(() => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
  });

  it('answers every request with 500 config_invalid naming the path, and forwards nothing', async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    const policy = {
      issuers: { corp: { issuer: issuer.url, audiences: ['https://api.example.test'], jwks_uri: issuer.jwksUri } },
      routes: [
        { path: '/health', access: 'public' },
        { path: '/*', access: 'required', scopes: { all: ['read write'] } },
      ],
      origin: origin.url,
      resource: { resource: 'https://api.example.test' },
    };
    const requests = [
      bearer(await issuer.mint()),
      new Request(`${WORKER_URL}/health`),
      new Request(`${WORKER_URL}/.well-known/oauth-protected-resource`),
      new Request(`${WORKER_URL}/resource`, { method: 'POST', body: 'x' }),
    ];
    for (const [i, request] of requests.entries()) {
      const vars: Env = { POLICY: i % 2 === 0 ? policy : JSON.stringify(policy) };
      const response = await callWorker(request, vars);
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('www-authenticate')).toBeNull();
      const body = (await response.json()) as { code: string; detail: string };
      expect(body.code).toBe('config_invalid');
      expect(body.detail).toMatch(/^POLICY\.routes\[1\]\.scopes\.all\[0\]: /);
    }
    expect(await origin.hits()).toBe(0);
    expect((await issuer.stats()).jwksFetches).toBe(0);
  });

  it('refuses an origin ending in an empty query rather than appending every path to that query', async () => {
    const origin = new TestOrigin();
    const policy = {
      issuers: { corp: { issuer: 'https://corp.example/', audiences: ['https://api.example.test'] } },
      routes: [{ path: '/*', access: 'public' }],
      origin: `${origin.url}/base?`,
    };
    const response = await callWorker(new Request(`${WORKER_URL}/v1/items?x=1`), { POLICY: policy });
    // Both in one object, so that a failure shows where the origin was asked for the path.
    expect({ status: response.status, body: await response.json() }).toMatchObject({
      status: 500,
      body: { code: 'config_invalid', detail: expect.stringMatching(/^POLICY\.origin: /) },
    });
    expect(await origin.hits()).toBe(0);
  });
});

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  items?: JsonSchema;
};

/** Members of `value` the object schema does not allow, and required members `value` lacks. */
function schemaMisfits(value: Record<string, unknown>, schema: JsonSchema): string[] {
  const allowed = Object.keys(schema.properties ?? {});
  const unknown = schema.additionalProperties === false ? Object.keys(value).filter((k) => !allowed.includes(k)) : [];
  const missing = (schema.required ?? []).filter((k) => !(k in value));
  return [...unknown.map((k) => `unknown ${k}`), ...missing.map((k) => `missing ${k}`)];
}

describe('policy.schema.json', () => {
  it('is what npm run schema writes from the Valibot schema', () => {
    expect(committed).toStrictEqual(policyJsonSchema());
  });

  it('allows every member of the full policy, and refuses unknown ones', () => {
    const schema = committed as JsonSchema;
    const issuerSchema = schema.properties?.issuers?.additionalProperties as JsonSchema;
    const routeSchema = schema.properties?.routes?.items as JsonSchema;
    expect(schema.additionalProperties).toBe(false);
    expect(issuerSchema.additionalProperties).toBe(false);
    expect(routeSchema.additionalProperties).toBe(false);

    expect(schemaMisfits(fullPolicy, schema)).toEqual([]);
    expect(schemaMisfits(fullPolicy.issuers.corp, issuerSchema)).toEqual([]);
    expect(schemaMisfits(fullPolicy.issuers.partner, issuerSchema)).toEqual([]);
    expect(schemaMisfits(fullPolicy.routes[1] as Record<string, unknown>, routeSchema)).toEqual([]);

    // The walk itself catches what it should: a misspelt member and a missing required one.
    expect(schemaMisfits({ ...fullPolicy.issuers.corp, audience: [] }, issuerSchema)).toEqual(['unknown audience']);
    expect(schemaMisfits({ path: '/x' }, routeSchema)).toEqual(['missing access']);
  });
});
