import { describe, expect, inject, it, vi } from 'vitest';
import { type Echo, TestOrigin } from './helpers/origin.ts';
import { bearer, callWorker } from './helpers/worker.ts';

/** A client-credentials access token from the provider, for a resource. */
async function clientCredentials(resource: string): Promise<string> {
  const issuer = inject('oidcIssuer');
  const client = inject('oidcClient');
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${btoa(`${client.id}:${client.secret}`)}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: client.scope, resource }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

describe('end to end with a certified OpenID Provider (oidc-provider)', () => {
  it('accepts a client-credentials access token found through discovery, and forwards it', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const issuer = inject('oidcIssuer');
    const client = inject('oidcClient');
    const tokenResponse = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${btoa(`${client.id}:${client.secret}`)}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: client.scope, resource: client.resource }),
    });
    expect(tokenResponse.status).toBe(200);
    const { access_token: accessToken } = (await tokenResponse.json()) as { access_token: string };
    expect(accessToken.split('.')).toHaveLength(3);

    const origin = new TestOrigin();
    const vars = { ISSUER: issuer, AUDIENCE: client.resource, ORIGIN: origin.url, REQUIRED_SCOPES: client.scope };
    const response = await callWorker(bearer(accessToken, '/things'), vars);
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Echo;
    expect(echo.headers['x-auth-subject']).toBe(client.id);
    expect(await origin.hits()).toBe(1);

    const tampered = `${accessToken.slice(0, -4)}AAAA`;
    expect((await callWorker(bearer(tampered, '/things'), vars)).status).toBe(401);
    expect(await origin.hits()).toBe(1);
  });
});

describe('opaque tokens introspected at a certified OpenID Provider (oidc-provider)', () => {
  it('accepts an opaque client-credentials token through the introspection endpoint found by discovery, then refuses it once revoked', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const issuer = inject('oidcIssuer');
    const client = inject('oidcClient');
    const { resource, introspector } = inject('oidcOpaque');
    const token = await clientCredentials(resource);
    expect(token.split('.')).toHaveLength(1);

    const origin = new TestOrigin();
    const vars = {
      ISSUER: issuer,
      AUDIENCE: resource,
      ORIGIN: origin.url,
      REQUIRED_SCOPES: client.scope,
      INTROSPECTION_CLIENT_ID: introspector.id,
      INTROSPECTION_CLIENT_SECRET: 'OIDC_INTROSPECTION_SECRET',
      INTROSPECTION_CACHE_SECONDS: '0',
      OIDC_INTROSPECTION_SECRET: introspector.secret,
    };
    const response = await callWorker(bearer(token, '/things'), vars);
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Echo;
    // A client-credentials answer has no sub: no X-Auth-Subject, the answer in X-Auth-Claims.
    expect(echo.headers['x-auth-subject']).toBeUndefined();
    const claims = JSON.parse(
      atob((echo.headers['x-auth-claims'] as string).replaceAll('-', '+').replaceAll('_', '/')),
    );
    expect(claims).toMatchObject({ active: true, client_id: client.id, aud: resource, token_type: 'Bearer' });

    const revoked = await fetch(`${issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${btoa(`${client.id}:${client.secret}`)}`,
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    });
    expect(revoked.status).toBe(200);
    const after = await callWorker(bearer(token, '/things'), vars);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { code: string }).code).toBe('token_inactive');
    expect(await origin.hits()).toBe(1);
  });
});
