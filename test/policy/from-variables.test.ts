import { describe, expect, it } from 'vitest';
import { policyFromVariables } from '../../src/policy/from-variables.ts';

describe('policyFromVariables', () => {
  it('translates the flat variables into a policy: one issuer, the public paths, one catch-all', () => {
    const { policy } = policyFromVariables({
      ISSUER: 'https://id.example/',
      AUDIENCE: 'a, b',
      CLIENT_IDS: 'app',
      JWKS_URI: 'https://id.example/keys',
      ALGORITHMS: 'RS256,ES256',
      CLOCK_SKEW_SECONDS: '5',
      DPOP: 'allowed',
      PUBLIC_PATHS: '/health, /public/*',
      REQUIRED_SCOPES: 'read  write',
      RESOURCE: 'https://api.example/',
      ORIGIN: 'https://origin.example',
    });
    expect(policy).toEqual({
      issuers: {
        default: {
          issuer: 'https://id.example/',
          audiences: ['a', 'b'],
          client_ids: ['app'],
          jwks_uri: 'https://id.example/keys',
          algorithms: ['RS256', 'ES256'],
          clock_skew_seconds: 5,
          dpop: 'allowed',
        },
      },
      routes: [
        { path: '/health', access: 'public' },
        { path: '/public/*', access: 'public' },
        { path: '*', access: 'required', scopes: { all: ['read', 'write'] } },
      ],
      resource: { resource: 'https://api.example/', scopes_supported: ['read', 'write'] },
    });
  });

  it('forwards through the ORIGIN_SERVICE binding only without ORIGIN', () => {
    const vars = { ISSUER: 'https://id.example/', AUDIENCE: 'a', ORIGIN_SERVICE_BOUND: true };
    expect(policyFromVariables(vars).policy).toMatchObject({ origin_service: 'ORIGIN_SERVICE' });
    expect(policyFromVariables({ ...vars, ORIGIN: 'https://o.example' }).policy).not.toHaveProperty('origin_service');
  });

  it('names the variable behind each part of the policy, the longest prefix first', () => {
    const { variableAt } = policyFromVariables({
      ISSUER: 'https://id.example/',
      AUDIENCE: 'a',
      ALGORITHMS: 'HS256',
      PUBLIC_PATHS: '/a,/b',
      REQUIRED_SCOPES: 'read',
    });
    expect(variableAt('POLICY.issuers.default.algorithms[0]')).toBe('ALGORITHMS');
    expect(variableAt('POLICY.issuers.default.issuer')).toBe('ISSUER');
    expect(variableAt('POLICY.routes[1].path')).toBe('PUBLIC_PATHS');
    expect(variableAt('POLICY.routes[2].scopes.all[0]')).toBe('REQUIRED_SCOPES');
    expect(variableAt('POLICY.routes[2].path')).toBeUndefined();
    expect(variableAt('POLICY.issuers.default.issuerx')).toBeUndefined();
  });
});
