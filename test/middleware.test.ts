import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { Hono } from 'hono';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../src/env.ts';
import { edgeVerifier } from '../src/lib.ts';
import { AUDIENCE, TestIssuer } from './helpers/issuer.ts';
import { recordFor, seedKv } from './helpers/tiers.ts';
import { bearer, envWith, parseChallenge, WORKER_URL } from './helpers/worker.ts';

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

describe('the Hono middleware (library face)', () => {
  it('sets c.var.auth for a verified request and answers refusals itself', async () => {
    const issuer = await TestIssuer.create(['ES256']);
    // KV holds the set (as its writer, the coordinator or a cron, leaves it): the middleware reads
    // the app's KV binding as its shared tier, so the issuer is never asked.
    await seedKv(await recordFor(issuer));
    const app = new Hono<{ Bindings: Env }>();
    app.use('/api/*', edgeVerifier({ vars: { ISSUER: issuer.url, AUDIENCE, JWKS_URI: issuer.jwksUri } }));
    app.get('/api/me', (c) => c.json({ subject: c.var.auth?.subject, scope: c.var.auth?.claims.scope }));
    app.get('/open', (c) => c.text('open'));
    const call = async (request: Request) => {
      const ctx = createExecutionContext();
      const response = await app.fetch(request, envWith({}), ctx);
      await waitOnExecutionContext(ctx);
      return response;
    };

    const ok = await call(bearer(await issuer.mint({ claims: { sub: 'lib-user' } }), '/api/me'));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ subject: 'lib-user', scope: 'read write' });
    expect((await issuer.stats()).jwksFetches).toBe(0);

    const refused = await call(new Request(`${WORKER_URL}/api/me`));
    expect(refused.status).toBe(401);
    expect(parseChallenge(refused.headers.get('www-authenticate'))).toEqual({ realm: 'api' });
    expect((await call(new Request(`${WORKER_URL}/open`))).status).toBe(200);
  });

  it('checks its options when it is built', () => {
    expect(() => edgeVerifier({ vars: { ISSUER: 'http://id.example', AUDIENCE } })).toThrow(/ISSUER/);
  });
});
