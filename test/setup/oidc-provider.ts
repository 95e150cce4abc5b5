/**
 * A certified OpenID Provider (panva/oidc-provider) on loopback, issuing JWT access tokens
 * through the client-credentials grant for one resource and opaque ones for another, with
 * introspection (for the verifier's own client, never of refresh tokens) and revocation, for the
 * end-to-end tests.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export const E2E_CLIENT = { id: 'edge-verifier-e2e', secret: 'edge-verifier-e2e-secret' };
export const E2E_RESOURCE = 'https://api.example.test';
export const E2E_SCOPE = 'read:things';
/** A resource whose access tokens are opaque: only introspection can say what they are. */
export const E2E_OPAQUE_RESOURCE = 'https://opaque.example.test';
/** The verifier's own client at the introspection endpoint. */
export const E2E_INTROSPECTOR = { id: 'edge-verifier-introspector', secret: 'edge-verifier-introspector-secret' };

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
      {
        client_id: E2E_INTROSPECTOR.id,
        client_secret: E2E_INTROSPECTOR.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      },
    ],
    jwks: { keys: [signingKey] },
    scopes: [E2E_SCOPE],
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      // Refresh tokens are never introspectable by the verifier: only access tokens open an API.
      introspection: { enabled: true, allowedPolicy: async (_ctx, _client, token) => token.kind !== 'RefreshToken' },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => E2E_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) =>
          resource === E2E_OPAQUE_RESOURCE
            ? { scope: E2E_SCOPE, audience: E2E_OPAQUE_RESOURCE, accessTokenFormat: 'opaque' }
            : { scope: E2E_SCOPE, audience: E2E_RESOURCE, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } },
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
