import type { Context, MiddlewareHandler } from 'hono';
import { type Config, parseConfig } from '../config.ts';
import type { Env } from '../env.ts';
import { VerifierError } from '../errors.ts';
import { errorResponse } from '../http/problem.ts';
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

/** Options shared by the middleware and the gateway's handler. */
export interface GuardOptions {
  /** Name of the KV binding for the shared key cache. Default `JWKS_CACHE`. */
  readonly kvBinding?: string;
  /** Where refusals are logged. Default: one JSON line per event on `console.log`. */
  readonly log?: Logger;
}

/**
 * Authenticates one request: its `AuthResult` (`null` on a public route or CORS preflight),
 * or the RFC 6750 refusal to send instead. The middleware and the gateway's single handler
 * both use it, so the gateway does not pay for a second Hono handler on every request.
 * `url` is the request's parsed URL, for a caller that needs it too (the gateway's proxy).
 */
export function requestGuard(
  verifier: Verifier,
  { kvBinding = 'JWKS_CACHE', log = consoleLogger }: GuardOptions = {},
): (c: Context, url?: URL) => Promise<AuthResult | null | Response> {
  return async (c, url = new URL(c.req.url)) => {
    try {
      return await verifier.authenticate(c.req.raw, new ContextIo(c, kvBinding), url);
    } catch (error) {
      const code = error instanceof VerifierError ? error.code : 'internal_error';
      log('request_refused', { code, method: c.req.method, path: url.pathname });
      if (!(error instanceof VerifierError)) log('unexpected_error', { error: String(error) });
      return errorResponse(error, verifier.config.realm);
    }
  };
}

/** The middleware around an existing verifier (the gateway shares its verifier with the scheduled refresh). */
export function verifierMiddleware(verifier: Verifier, options: GuardOptions = {}): MiddlewareHandler {
  const guard = requestGuard(verifier, options);
  return async function edgeVerifierMiddleware(c, next) {
    const auth = await guard(c);
    if (auth instanceof Response) return auth;
    c.set('auth', auth);
    await next();
  };
}

function configOf(options: EdgeVerifierOptions): Config {
  return 'config' in options ? options.config : parseConfig(options.vars);
}

/**
 * The key resolver's I/O for one request. Only a cold start or a refresh reads it, so nothing
 * is looked up on the request path until then.
 */
class ContextIo implements ResolverIo {
  readonly #c: Context;
  readonly #kvBinding: string;

  constructor(c: Context, kvBinding: string) {
    this.#c = c;
    this.#kvBinding = kvBinding;
  }

  get kv(): KVNamespace | undefined {
    return ((this.#c.env ?? {}) as Record<string, unknown>)[this.#kvBinding] as KVNamespace | undefined;
  }

  get cache(): Cache | undefined {
    return typeof caches === 'undefined' ? undefined : caches.default;
  }

  waitUntil(promise: Promise<unknown>): void {
    let executionCtx: ExecutionContext | undefined;
    try {
      executionCtx = this.#c.executionCtx as ExecutionContext;
    } catch {
      // Hono throws when the runtime gave no execution context (e.g. app.request in a test).
    }
    if (executionCtx) executionCtx.waitUntil(promise);
    else void promise.catch(() => {});
  }
}
