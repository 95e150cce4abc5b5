/**
 * The floor under system B, for `npm run bench:instructions`: system A's pass-through plus only
 * the calls into the runtime that forwarding a verified, repeated token requires, with none of
 * edge-verifier's own logic around them. What B costs over this is the Worker's JavaScript; what
 * this costs over A is the price of the behaviour itself:
 *   - the token read from its header, and one lookup of the whole token in a Map (a repeated
 *     token's cache hit) with the clock read for its `exp`;
 *   - the origin request built with the client's headers (A has fetch do that), then one pass over
 *     their names, the `Authorization` header deleted (no client `X-Auth-*` or hop-by-hop header
 *     may reach the origin, nor the token unless the policy forwards it);
 *   - the two identity headers set, `X-Auth-Subject` and `X-Auth-Claims` (the payload segment);
 *   - the origin timeout: an `AbortController`, a timer set and cleared.
 */
import { Hono } from 'hono';

type Bindings = { ORIGIN: string };

interface Identity {
  readonly subject: string;
  readonly encodedClaims: string;
  readonly expMs: number;
}

/** `doFetch` answers the origin inside the isolate, as it does for A and B. */
export function createFloor(doFetch: typeof fetch = fetch): Hono<{ Bindings: Bindings }> {
  const verified = new Map<string, Identity>();
  const app = new Hono<{ Bindings: Bindings }>();
  app.all('*', async (c) => {
    const url = new URL(c.req.url);
    const incoming = c.req.raw.headers;
    const token = (incoming.get('authorization') ?? '').slice('Bearer '.length);
    let identity = verified.get(token);
    if (identity === undefined) {
      // The first use only; the floor is for the token seen before. Nothing here is checked.
      const encodedClaims = token.split('.')[1] ?? '';
      const claims = JSON.parse(atob(encodedClaims.replace(/-/g, '+').replace(/_/g, '/'))) as { sub: string };
      identity = { subject: claims.sub, encodedClaims, expMs: Number.POSITIVE_INFINITY };
      verified.set(token, identity);
    }
    if (Date.now() >= identity.expMs) return new Response(null, { status: 401 });
    const abort = new AbortController();
    const outgoing = new Request(`${c.env.ORIGIN}${url.pathname}${url.search}`, {
      method: c.req.method,
      headers: incoming,
      redirect: 'manual',
      signal: abort.signal,
    });
    const headers = outgoing.headers;
    for (const name of incoming.keys())
      if (name === 'authorization' || name.startsWith('x-auth-')) headers.delete(name);
    headers.set('x-auth-subject', identity.subject);
    headers.set('x-auth-claims', identity.encodedClaims);
    const timer = setTimeout(() => abort.abort(), 30_000);
    try {
      return await doFetch(outgoing);
    } finally {
      clearTimeout(timer);
    }
  });
  return app;
}
