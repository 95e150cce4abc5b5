/** System A: a Hono Worker that forwards every request to ORIGIN with no auth — the ceiling. */
import { Hono } from 'hono';

type Bindings = { ORIGIN: string };

/** The pass-through app; `doFetch` lets the instruction count answer the origin inside the isolate. */
export function createPassthrough(doFetch: typeof fetch = fetch): Hono<{ Bindings: Bindings }> {
  const app = new Hono<{ Bindings: Bindings }>();
  app.all('*', (c) => {
    const url = new URL(c.req.url);
    return doFetch(`${c.env.ORIGIN}${url.pathname}${url.search}`, { method: c.req.method, headers: c.req.raw.headers });
  });
  return app;
}

export default createPassthrough();
