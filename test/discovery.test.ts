import { beforeEach, describe, expect, it, vi } from 'vitest';
import { metadataUrls } from '../src/keys/remote/discovery.ts';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { bearer, callWorker, varsFor } from './helpers/worker.ts';

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

describe('issuer metadata discovery', () => {
  it('builds the OIDC and RFC 8414 metadata URLs', () => {
    expect(metadataUrls('https://id.example/tenant/')).toEqual([
      'https://id.example/tenant/.well-known/openid-configuration',
      'https://id.example/.well-known/oauth-authorization-server/tenant',
    ]);
    expect(metadataUrls('https://id.example')).toEqual([
      'https://id.example/.well-known/openid-configuration',
      'https://id.example/.well-known/oauth-authorization-server',
    ]);
  });

  it('finds jwks_uri through OpenID Connect discovery when JWKS_URI is absent', async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    const vars = varsFor(issuer, origin, { JWKS_URI: undefined });
    expect((await callWorker(bearer(await issuer.mint()), vars)).status).toBe(200);
    expect((await callWorker(bearer(await issuer.mint()), vars)).status).toBe(200);
    expect(await issuer.stats()).toMatchObject({ jwksFetches: 1, discoveryFetches: 1 });
  });

  it('falls back to RFC 8414 authorization server metadata', async () => {
    const issuer = await TestIssuer.create();
    await issuer.useRfc8414Metadata();
    const vars = varsFor(issuer, new TestOrigin(), { JWKS_URI: undefined });
    expect((await callWorker(bearer(await issuer.mint()), vars)).status).toBe(200);
    expect(await issuer.stats()).toMatchObject({ jwksFetches: 1, discoveryFetches: 1 });
  });

  it('refuses metadata that names another issuer', async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    // The tenant's metadata names `${issuer.url}`; configure the same tenant under a different spelling.
    const vars = varsFor(issuer, origin, { JWKS_URI: undefined, ISSUER: `${issuer.url}/` });
    const token = await issuer.mint({ claims: { iss: `${issuer.url}/` } });
    const response = await callWorker(bearer(token), vars);
    expect(response.status).toBe(503);
    expect((await issuer.stats()).jwksFetches).toBe(0);
    expect(await origin.hits()).toBe(0);
  });

  it('answers 503 when discovery is unreachable', async () => {
    const issuer = await TestIssuer.create();
    const vars = varsFor(issuer, new TestOrigin(), { JWKS_URI: undefined, ISSUER: 'http://127.0.0.1:9/t/x' });
    const token = await issuer.mint({ claims: { iss: 'http://127.0.0.1:9/t/x' } });
    expect((await callWorker(bearer(token), vars)).status).toBe(503);
  });
});
