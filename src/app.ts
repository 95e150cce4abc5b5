import { Hono } from 'hono';
import { requestGuard } from './auth/middleware.ts';
import { createVerifier, type Verifier, type VerifierDeps } from './auth/verifier.ts';
import type { Config } from './config.ts';
import type { Env } from './env.ts';
import { ConfigError, VerifierError } from './errors.ts';
import { errorResponse } from './http/problem.ts';
import { consoleLogger } from './log.ts';
import { forwardToOrigin } from './proxy/forward.ts';

export interface GatewayApp {
  readonly app: Hono<{ Bindings: Env }>;
  readonly verifier: Verifier;
}

/** The gateway: the same request guard the middleware library uses, then a proxy to ORIGIN. */
export function createApp(config: Config, deps: VerifierDeps = {}): GatewayApp {
  const origin = config.origin;
  if (origin === undefined) throw new ConfigError('ORIGIN', 'is required');
  const log = deps.log ?? consoleLogger;
  const verifier = createVerifier(config, deps);
  const app = new Hono<{ Bindings: Env }>();
  const guard = requestGuard(verifier, { log });
  app.all('*', async (c) => {
    // Parsed once, for the route policy and the origin URL.
    const url = new URL(c.req.url);
    const auth = await guard(c, url);
    return auth instanceof Response ? auth : forwardToOrigin(c.req.raw, url, origin, auth, deps.fetch);
  });
  app.onError((error) => {
    if (!(error instanceof VerifierError)) log('unexpected_error', { error: String(error) });
    else log('request_failed', { code: error.code });
    return errorResponse(error, config.realm);
  });
  return { app, verifier };
}
