/**
 * A certified OpenID Provider (panva/oidc-provider) on loopback, issuing JWT access tokens
 * through the client-credentials grant, for the end-to-end test.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export const E2E_CLIENT = { id: 'edge-verifier-e2e', secret: 'edge-verifier-e2e-secret' };
export const E2E_RESOURCE = 'https://api.example.test';
export const E2E_SCOPE = 'read:things';

export async function startOidcProvider(): Promise<{ issuer: string; close(): Promise<void> }> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'e2e-rs256', alg: 'RS256', use: 'sig' };

  // The issuer URL must be known before listening; reserve a port first.
  const { createServer } = await import('node:http');
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: E2E_CLIENT.id,
        client_secret: E2E_CLIENT.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: E2E_SCOPE,
      },
    ],
    jwks: { keys: [signingKey] },
    scopes: [E2E_SCOPE],
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => E2E_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: E2E_SCOPE,
          audience: E2E_RESOURCE,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  const server: Server = provider.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
