import { Hono } from 'hono';
import { requestGuard } from './auth/middleware.ts';
import { createVerifier, type Verifier, type VerifierDeps } from './auth/verifier.ts';
import type { Config } from './config.ts';
import type { Env } from './env.ts';
import { refuse } from './http/refuse.ts';
import { consoleLogger } from './log.ts';
import { createForwarder } from './proxy/forward.ts';

export interface GatewayApp {
  readonly app: Hono<{ Bindings: Env }>;
  readonly verifier: Verifier;
}

/** The KV binding the gateway's key cache uses, for requests and the scheduled refresh alike. */
export const GATEWAY_KV_BINDING = 'JWKS_CACHE';

/** The gateway: the same request guard the middleware library uses, then a proxy to the route's origin. */
export function createApp(config: Config, deps: VerifierDeps = {}): GatewayApp {
  const log = deps.log ?? consoleLogger;
  const forward = createForwarder(config, deps);
  const verifier = createVerifier(config, deps);
  const app = new Hono<{ Bindings: Env }>();
  const guard = requestGuard(verifier, { kvBinding: GATEWAY_KV_BINDING, log });
  app.all('*', async (c) => {
    // Parsed once, for route matching and the origin URL.
    const url = new URL(c.req.url);
    const outcome = await guard(c, url);
    if (outcome instanceof Response) return outcome;
    return forward(c.req.raw, url, outcome.route, outcome.auth, c.env);
  });
  app.onError((error, c) => refuse(error, verifier.challenge, log, { method: c.req.method, path: c.req.path }));
  return { app, verifier };
}
