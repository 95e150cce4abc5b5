/** System A: a Hono Worker that forwards every request to ORIGIN with no auth — the ceiling. */
import { Hono } from 'hono';

type Bindings = { ORIGIN: string };
const app = new Hono<{ Bindings: Bindings }>();
app.all('*', (c) => {
  const url = new URL(c.req.url);
  return fetch(`${c.env.ORIGIN}${url.pathname}${url.search}`, { method: c.req.method, headers: c.req.raw.headers });
});
export default app;
