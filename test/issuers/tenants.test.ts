import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import type { Env } from '../../src/env.ts';
import { ConfigError } from '../../src/errors.ts';
import { AUDIENCE, TestIssuer } from '../helpers/issuer.ts';
import { type Echo, TestOrigin } from '../helpers/origin.ts';
import { policyVars } from '../helpers/policy.ts';
import { bearer, callWorker } from '../helpers/worker.ts';

const TENANT_A = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const TENANT_B = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';

let log: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  log = vi.spyOn(console, 'log').mockImplementation(() => {});
});

/** A multi-tenant issuer as Microsoft Entra is one: a template, one key set for every tenant. */
async function multiTenant(tenants: string[], extra: Record<string, unknown> = {}) {
  const keys = await TestIssuer.create();
  const origin = new TestOrigin();
  const template = `${keys.url}/{tenantid}/v2.0`;
  const vars = policyVars(
    {
      issuers: { entra: { issuer: template, tenants, jwks_uri: keys.jwksUri, audiences: [AUDIENCE], ...extra } },
      routes: [{ path: '/*', access: 'required' }],
      origin: origin.url,
    },
    // Every success gets its decision line, not a sample: the test reads the tenant from it.
    { LOG_SUCCESS_SAMPLE: '1' },
  );
  const mint = (tenant: string, claims: Record<string, unknown> = {}) =>
    keys.mint({ claims: { iss: `${keys.url}/${tenant}/v2.0`, tid: tenant, ...claims } });
  return { keys, origin, vars, mint };
}

async function outcome(response: Response): Promise<string> {
  return response.status === 200 ? 'ok' : `${response.status} ${((await response.json()) as { code: string }).code}`;
}

function loggedTenants(): unknown[] {
  return log.mock.calls
    .map(([line]: unknown[]) => JSON.parse(String(line)) as { event?: string; tenant?: unknown })
    .filter((line: { event?: string }) => line.event === 'request')
    .map((line: { tenant?: unknown }) => line.tenant);
}

describe('{tenantid} issuer templates', () => {
  it('accepts a listed tenant, checks tid against the iss tenant, and names the tenant in the decision line', async () => {
    const { vars, mint } = await multiTenant([TENANT_A]);
    expect(await outcome(await callWorker(bearer(await mint(TENANT_A)), vars))).toBe('ok');
    expect(loggedTenants()).toContain(TENANT_A);
  });

  it('refuses a tenant not listed without fetching anything, a tid that differs from the iss tenant, and a missing tid', async () => {
    const { keys, vars, mint } = await multiTenant([TENANT_A]);
    expect(await outcome(await callWorker(bearer(await mint(TENANT_B)), vars))).toBe('401 wrong_issuer');
    expect((await keys.stats()).jwksFetches).toBe(0);
    expect(await outcome(await callWorker(bearer(await mint(TENANT_A, { tid: TENANT_B })), vars))).toBe(
      '401 wrong_issuer',
    );
    expect(await outcome(await callWorker(bearer(await mint(TENANT_A, { tid: undefined })), vars))).toBe(
      '401 wrong_issuer',
    );
  });

  it('takes one segment only: a tenant holding / or . never matches', async () => {
    const { keys, vars } = await multiTenant(['*']);
    for (const tenant of [`${TENANT_A}/x`, 'a.b', '']) {
      const token = await keys.mint({ claims: { iss: `${keys.url}/${tenant}/v2.0`, tid: tenant } });
      expect(await outcome(await callWorker(bearer(token), vars))).toBe('401 wrong_issuer');
    }
  });

  it('accepts any tenant with ["*"], and tid is still checked', async () => {
    const { vars, mint } = await multiTenant(['*']);
    expect(await outcome(await callWorker(bearer(await mint(TENANT_A)), vars))).toBe('ok');
    expect(await outcome(await callWorker(bearer(await mint(TENANT_B)), vars))).toBe('ok');
    expect(await outcome(await callWorker(bearer(await mint(TENANT_B, { tid: TENANT_A })), vars))).toBe(
      '401 wrong_issuer',
    );
  });

  it('reads the tenant from tenant_claim when set', async () => {
    const { vars, mint } = await multiTenant([TENANT_A], { tenant_claim: 'org.id' });
    expect(
      await outcome(await callWorker(bearer(await mint(TENANT_A, { tid: undefined, org: { id: TENANT_A } })), vars)),
    ).toBe('ok');
    expect(await outcome(await callWorker(bearer(await mint(TENANT_A)), vars))).toBe('401 wrong_issuer');
  });

  it('holds a JWKS key that names its issuer to the tokens of that issuer, {tenantid} read as the token tenant', async () => {
    const { keys, vars, mint } = await multiTenant([TENANT_A, TENANT_B]);
    await keys.publish({ keys: [{ ...keys.key.publicJwk, issuer: `${keys.url}/{tenantid}/v2.0` }] });
    expect(await outcome(await callWorker(bearer(await mint(TENANT_A)), vars))).toBe('ok');
    // The same key published for another issuer verifies none of these tokens.
    const other = await multiTenant([TENANT_A]);
    await other.keys.publish({
      keys: [{ ...other.keys.key.publicJwk, issuer: 'https://login.example/{tenantid}/v2.0' }],
    });
    expect(await outcome(await callWorker(bearer(await other.mint(TENANT_A)), other.vars))).toBe('401 wrong_issuer');
  });

  it('works from the flat variables: ISSUER with {tenantid}, TENANTS, and the tenant in X-Auth-Claims', async () => {
    const keys = await TestIssuer.create();
    const origin = new TestOrigin();
    const vars = {
      ISSUER: `${keys.url}/{tenantid}/v2.0`,
      TENANTS: `${TENANT_A}, ${TENANT_B}`,
      JWKS_URI: keys.jwksUri,
      AUDIENCE,
      ORIGIN: origin.url,
    } as Env;
    const token = await keys.mint({ claims: { iss: `${keys.url}/${TENANT_B}/v2.0`, tid: TENANT_B } });
    const response = await callWorker(bearer(token), vars);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Echo).headers['x-auth-subject']).toBe('user-1');
  });
});

describe('issuer aliases', () => {
  it('accepts each exact value of an issuer array (Google signs with and without https://) and nothing else', async () => {
    const keys = await TestIssuer.create();
    const origin = new TestOrigin();
    const vars = policyVars({
      issuers: {
        google: { issuer: [keys.url, 'accounts.example.test'], jwks_uri: keys.jwksUri, audiences: [AUDIENCE] },
      },
      routes: [{ path: '/*', access: 'required' }],
      origin: origin.url,
    });
    for (const [iss, expected] of [
      [keys.url, 'ok'],
      ['accounts.example.test', 'ok'],
      ['https://accounts.example.test', '401 wrong_issuer'],
      [`${keys.url}/`, '401 wrong_issuer'],
    ]) {
      expect(await outcome(await callWorker(bearer(await keys.mint({ claims: { iss } })), vars))).toBe(expected);
    }
  });
});

describe('issuer configuration', () => {
  const base = { audiences: [AUDIENCE], jwks_uri: 'https://login.example/keys' };
  const problem = (issuer: Record<string, unknown>): [string, string] => {
    try {
      parseConfig({
        POLICY: { issuers: { entra: { ...base, ...issuer } }, routes: [{ path: '/*', access: 'required' }] },
      });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return [(error as ConfigError).variable, (error as ConfigError).problem];
    }
    throw new Error('expected a ConfigError');
  };

  it.each<[string, Record<string, unknown>, string]>([
    ['a template without tenants', { issuer: 'https://login.example/{tenantid}/v2.0' }, 'POLICY.issuers.entra.tenants'],
    [
      'tenants without a template',
      { issuer: 'https://login.example/t/v2.0', tenants: ['a'] },
      'POLICY.issuers.entra.tenants',
    ],
    [
      'the placeholder twice',
      { issuer: 'https://{tenantid}.login.example/{tenantid}/', tenants: ['a'] },
      'POLICY.issuers.entra.issuer',
    ],
    [
      'the placeholder inside a segment',
      { issuer: 'https://login.example/t-{tenantid}/v2.0', tenants: ['a'] },
      'POLICY.issuers.entra.issuer',
    ],
    [
      '* beside tenant ids',
      { issuer: 'https://login.example/{tenantid}/v2.0', tenants: ['*', 'a'] },
      'POLICY.issuers.entra.tenants',
    ],
    [
      'a template without jwks_uri',
      { issuer: 'https://login.example/{tenantid}/v2.0', tenants: ['a'], jwks_uri: undefined },
      'POLICY.issuers.entra.jwks_uri',
    ],
    [
      'a first value that is not a URL',
      { issuer: ['accounts.example', 'https://accounts.example'] },
      'POLICY.issuers.entra.issuer[0]',
    ],
    ['an empty alias list', { issuer: [] }, 'POLICY.issuers.entra.issuer'],
    ['an http first value off loopback', { issuer: ['http://login.example/'] }, 'POLICY.issuers.entra.issuer[0]'],
  ])('refuses %s', (_name, issuer, path) => {
    expect(problem(issuer)[0]).toBe(path);
  });

  it('accepts a template as a host label, and names only exact issuers as authorization servers', () => {
    const config = parseConfig({
      POLICY: {
        issuers: {
          entra: { ...base, issuer: 'https://{tenantid}.login.example/', tenants: ['contoso'] },
          corp: { ...base, issuer: 'https://corp.example/' },
        },
        routes: [{ path: '/*', access: 'required', issuers: ['entra', 'corp'] }],
        resource: { resource: 'https://api.example/' },
      },
    });
    expect(config.resource?.authorizationServers).toEqual(['https://corp.example/']);
  });
});
