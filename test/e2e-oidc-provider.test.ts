import { describe, expect, inject, it, vi } from 'vitest';
import { type Echo, TestOrigin } from './helpers/origin.ts';
import { bearer, callWorker } from './helpers/worker.ts';

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
