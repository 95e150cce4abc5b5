/**
 * System C: Hono's built-in `hono/jwk` middleware, then the same proxy as A. It fetches
 * JWKS_URI on every request (no cache). Its `verification` options check iss and aud, so it
 * does the same claim work as edge-verifier.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { jwk } from 'hono/jwk';

type Bindings = { ORIGIN: string; JWKS_URI: string; ISSUER: string; AUDIENCE: string };
const app = new Hono<{ Bindings: Bindings }>();
// The options are fixed per middleware and the variables arrive with the first request.
let verify: MiddlewareHandler | undefined;
app.use('*', (c, next) => {
  verify ??= jwk({
    jwks_uri: c.env.JWKS_URI,
    alg: ['RS256', 'ES256'],
    verification: { iss: c.env.ISSUER, aud: c.env.AUDIENCE },
  });
  return verify(c, next);
});
app.all('*', (c) => {
  const url = new URL(c.req.url);
  return fetch(`${c.env.ORIGIN}${url.pathname}${url.search}`, { method: c.req.method, headers: c.req.raw.headers });
});
export default app;
