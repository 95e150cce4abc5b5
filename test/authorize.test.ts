import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { policyIssuer, policyVars } from './helpers/policy.ts';
import { bearer, callWorker, parseChallenge } from './helpers/worker.ts';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.create();
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

function oneRoute(route: Record<string, unknown>) {
  return policyVars({
    issuers: { corp: policyIssuer(issuer) },
    routes: [{ path: '/*', access: 'required', ...route }],
    origin: new TestOrigin().url,
  });
}

async function call(vars: ReturnType<typeof oneRoute>, claims: Record<string, unknown>) {
  const response = await callWorker(bearer(await issuer.mint({ claims })), vars);
  const body = response.status === 200 ? undefined : ((await response.json()) as { code: string });
  return { status: response.status, code: body?.code, challenge: response.headers.get('www-authenticate') };
}

describe('scopes', () => {
  it('all: every scope must be granted, from scope or scp', async () => {
    const vars = oneRoute({ scopes: { all: ['read', 'admin'] } });
    expect((await call(vars, { scope: 'admin read' })).status).toBe(200);
    expect((await call(vars, { scope: undefined, scp: ['read', 'admin'] })).status).toBe(200);
    const refused = await call(vars, { scope: 'read' });
    expect(refused).toMatchObject({ status: 403, code: 'insufficient_scope' });
    expect(parseChallenge(refused.challenge)).toMatchObject({ error: 'insufficient_scope', scope: 'read admin' });
  });

  it('reads scope and scp each as a space-delimited string or an array of strings', async () => {
    const vars = oneRoute({ scopes: { all: ['Files.Read', 'User.Read'] } });
    expect((await call(vars, { scope: undefined, scp: 'Files.Read User.Read' })).status).toBe(200);
    expect((await call(vars, { scope: ['Files.Read'], scp: ['User.Read'] })).status).toBe(200);
    expect((await call(vars, { scope: undefined, scp: 'Files.Read' })).status).toBe(403);
  });

  it('scope_claims replaces the default claims; dotted paths and arrays of segments reach nested ones', async () => {
    const vars = (scopeClaims: unknown[]) =>
      policyVars({
        issuers: { corp: policyIssuer(issuer, { scope_claims: scopeClaims }) },
        routes: [{ path: '/*', access: 'required', scopes: { all: ['admin'] } }],
        origin: new TestOrigin().url,
      });
    const auth0 = vars(['permissions']);
    expect((await call(auth0, { scope: 'openid', permissions: ['read:items', 'admin'] })).status).toBe(200);
    // The default claims no longer grant anything once scope_claims is set.
    expect((await call(auth0, { scope: 'admin' })).status).toBe(403);
    const keycloak = vars(['realm_access.roles', ['resource_access', 'my.client', 'roles']]);
    expect((await call(keycloak, { realm_access: { roles: ['admin'] } })).status).toBe(200);
    expect((await call(keycloak, { resource_access: { 'my.client': { roles: ['admin'] } } })).status).toBe(200);
    expect((await call(keycloak, { resource_access: { my: { client: { roles: ['admin'] } } } })).status).toBe(403);
    const entra = vars(['scp', 'roles']);
    expect((await call(entra, { scope: undefined, roles: ['admin'] })).status).toBe(200);
  });

  it('any: one granted scope is enough', async () => {
    const vars = oneRoute({ scopes: { any: ['read', 'write'] } });
    expect((await call(vars, { scope: 'write' })).status).toBe(200);
    expect((await call(vars, { scope: 'Read' })).status).toBe(403);
    expect((await call(vars, { scope: undefined })).status).toBe(403);
  });

  it('all and any together: the challenge names all, then any', async () => {
    const vars = oneRoute({ scopes: { all: ['api'], any: ['read', 'write'] } });
    expect((await call(vars, { scope: 'api read' })).status).toBe(200);
    expect((await call(vars, { scope: 'read write' })).status).toBe(403);
    const refused = await call(vars, { scope: 'api' });
    expect(refused.status).toBe(403);
    expect(parseChallenge(refused.challenge).scope).toBe('api read write');
  });
});

describe('claim rules', () => {
  it('equals compares strings, numbers and booleans exactly', async () => {
    const vars = oneRoute({
      claims: [
        { claim: 'tier', equals: 'pro' },
        { claim: 'level', equals: 3 },
        { claim: 'verified', equals: true },
      ],
    });
    expect((await call(vars, { tier: 'pro', level: 3, verified: true })).status).toBe(200);
    for (const claims of [
      { tier: 'Pro', level: 3, verified: true },
      { tier: 'pro', level: '3', verified: true },
      { tier: 'pro', level: 3, verified: 'true' },
      { level: 3, verified: true },
    ]) {
      expect(await call(vars, claims)).toMatchObject({ status: 403, code: 'claim_mismatch' });
    }
  });

  it('one_of accepts any listed value', async () => {
    const vars = oneRoute({ claims: [{ claim: 'tenant', one_of: ['a', 'b'] }] });
    expect((await call(vars, { tenant: 'b' })).status).toBe(200);
    expect((await call(vars, { tenant: 'c' })).status).toBe(403);
    expect((await call(vars, { tenant: ['a'] })).status).toBe(403);
  });

  it('contains needs an array holding the value', async () => {
    const vars = oneRoute({ claims: [{ claim: 'roles', contains: 'admin' }] });
    expect((await call(vars, { roles: ['user', 'admin'] })).status).toBe(200);
    expect((await call(vars, { roles: ['user'] })).status).toBe(403);
    expect((await call(vars, { roles: 'admin' })).status).toBe(403);
  });

  it('follows a dotted path into nested claims, and prefers a top-level claim of that exact name', async () => {
    const vars = oneRoute({ claims: [{ claim: 'org.tier', equals: 'pro' }] });
    expect((await call(vars, { org: { tier: 'pro' } })).status).toBe(200);
    expect((await call(vars, { org: { tier: 'free' } })).status).toBe(403);
    expect((await call(vars, { 'org.tier': 'pro', org: { tier: 'free' } })).status).toBe(200);
    expect((await call(vars, { org: 'pro' })).status).toBe(403);
  });

  it('answers 403 insufficient_scope with a fixed description, never the claim’s value', async () => {
    const vars = oneRoute({ claims: [{ claim: 'tenant', equals: 'acme' }] });
    const refused = await call(vars, { tenant: 'secret-tenant-name' });
    expect(refused.status).toBe(403);
    const challenge = parseChallenge(refused.challenge);
    expect(challenge).toMatchObject({ error: 'insufficient_scope', error_description: 'claim requirement not met' });
    expect(refused.challenge).not.toContain('secret-tenant-name');
  });

  it('checks scopes before claims', async () => {
    const vars = oneRoute({ scopes: { all: ['admin'] }, claims: [{ claim: 'tenant', equals: 'a' }] });
    expect((await call(vars, { scope: 'read', tenant: 'b' })).code).toBe('insufficient_scope');
  });
});
