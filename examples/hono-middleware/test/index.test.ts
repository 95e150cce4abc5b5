import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { AUDIENCE, createApp, ISSUER } from '../src/index';

describe('a Worker protected by the edge-verifier middleware', () => {
  it('serves / to anyone, /api/* only with a valid token', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    // The issuer's discovery document and JWKS, answered in-process instead of over the network.
    const issuerFetch: typeof fetch = async (input) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url === `${ISSUER}.well-known/openid-configuration`) {
        return Response.json({ issuer: ISSUER, jwks_uri: `${ISSUER}jwks` });
      }
      if (url === `${ISSUER}jwks`) return Response.json({ keys: [jwk] });
      return new Response('not found', { status: 404 });
    };
    const app = createApp({ fetch: issuerFetch, log: () => {} });
    const call = async (path: string, token?: string) => {
      const ctx = createExecutionContext();
      const headers = token ? { authorization: `Bearer ${token}` } : undefined;
      const response = await app.fetch(new Request(`https://api.example.com${path}`, { headers }), {}, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    };
    const token = await new SignJWT({ scope: 'read' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);

    expect((await call('/')).status).toBe(200);
    const me = await call('/api/me', token);
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ subject: 'alice', issuer: 'default' });
    const refused = await call('/api/me');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="api"');
  });
});
