import type { Context, MiddlewareHandler } from 'hono';
import { type Config, parseConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { VerifierError } from '../errors.ts';
import { errorResponse } from '../http/problem.ts';
import { requestUrl } from '../http/request-url.ts';
import type { ResolverIo } from '../jwks/resolver.ts';
import { consoleLogger, type Logger } from '../log.ts';
import { type AuthResult, createVerifier, type Verifier, type VerifierDeps } from './verifier.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The verified token, or `null` on a public route or CORS preflight. */
    auth: AuthResult | null;
  }
}

export type EdgeVerifierOptions = VerifierDeps &
  ({ readonly config: Config } | { readonly vars: Omit<Env, 'JWKS_CACHE'> }) & {
    /** Name of the KV binding for the shared key cache. Default `JWKS_CACHE`; absent binding = no KV tier. */
    readonly kvBinding?: string;
  };

/**
 * Hono middleware: verifies the bearer token, sets `c.var.auth`, and answers every refusal
 * itself with the RFC 6750 response, so no handler behind it runs for an unverified request.
 * Options are validated here, once; a bad option throws at start-up, not per request.
 */
export function edgeVerifier(options: EdgeVerifierOptions): MiddlewareHandler {
  return verifierMiddleware(createVerifier(configOf(options), options), {
    kvBinding: options.kvBinding ?? 'JWKS_CACHE',
    log: options.log ?? consoleLogger,
  });
}

/** The middleware around an existing verifier (the gateway shares its verifier with the scheduled refresh). */
export function verifierMiddleware(
  verifier: Verifier,
  { kvBinding = 'JWKS_CACHE', log = consoleLogger }: { kvBinding?: string; log?: Logger } = {},
): MiddlewareHandler {
  return async function edgeVerifierMiddleware(c, next) {
    let auth: AuthResult | null;
    try {
      auth = await verifier.authenticate(c.req.raw, resolverIo(c, kvBinding));
    } catch (error) {
      const code = error instanceof VerifierError ? error.code : 'internal_error';
      log('request_refused', { code, method: c.req.method, path: requestUrl(c.req.raw).pathname });
      if (!(error instanceof VerifierError)) log('unexpected_error', { error: String(error) });
      return errorResponse(error, verifier.config.realm);
    }
    c.set('auth', auth);
    await next();
  };
}

function configOf(options: EdgeVerifierOptions): Config {
  return 'config' in options ? options.config : parseConfig(options.vars);
}

function resolverIo(c: Context, kvBinding: string): ResolverIo {
  const env = (c.env ?? {}) as Record<string, unknown>;
  let executionCtx: ExecutionContext | undefined;
  try {
    executionCtx = c.executionCtx as ExecutionContext;
  } catch {
    // Hono throws when the runtime gave no execution context (e.g. app.request in a test).
  }
  return {
    kv: env[kvBinding] as KVNamespace | undefined,
    cache: typeof caches === 'undefined' ? undefined : caches.default,
    waitUntil: (promise) => (executionCtx ? executionCtx.waitUntil(promise) : void promise.catch(() => {})),
  };
}
