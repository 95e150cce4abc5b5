import { edgeVerifier, type VerifierDeps } from 'edge-verifier';
import { Hono } from 'hono';

/** Your issuer and API. */
export const ISSUER = 'https://id.example.com/';
export const AUDIENCE = 'https://api.example.com';

/**
 * A Worker of your own: `/` is open, everything under `/api/` needs a token with the `read`
 * scope. `deps` is for tests (a clock, a fetch); leave it out in production.
 */
export function createApp(deps: VerifierDeps = {}) {
  const app = new Hono<{ Bindings: { JWKS_CACHE?: KVNamespace } }>();
  app.get('/', (c) => c.text('hello, anyone'));
  // Built once, at module scope: its closure is the in-memory key cache.
  app.use('/api/*', edgeVerifier({ vars: { ISSUER, AUDIENCE, REQUIRED_SCOPES: 'read' }, ...deps }));
  app.get('/api/me', (c) => c.json({ subject: c.var.auth?.subject, issuer: c.var.auth?.issuerId }));
  return app;
}

export default createApp();
