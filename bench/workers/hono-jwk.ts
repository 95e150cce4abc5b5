/** System C: Hono's built-in `hono/jwk` middleware (it fetches JWKS_URI on every request), then the same proxy. */
import { Hono } from 'hono';
import { jwk } from 'hono/jwk';

type Bindings = { ORIGIN: string; JWKS_URI: string };
const app = new Hono<{ Bindings: Bindings }>();
app.use('*', jwk({ jwks_uri: (c) => c.env.JWKS_URI, alg: ['RS256', 'ES256'] }));
app.all('*', (c) => {
  const url = new URL(c.req.url);
  return fetch(`${c.env.ORIGIN}${url.pathname}${url.search}`, { method: c.req.method, headers: c.req.raw.headers });
});
export default app;
