import type { Context, MiddlewareHandler } from 'hono';
import { type Config, parseConfig } from '../config.ts';
import type { Vars } from '../env.ts';
import { VerifierError } from '../errors.ts';
import { refuse } from '../http/refuse.ts';
import { resourceMetadataResponse } from '../http/resource-metadata.ts';
import { consoleLogger, type Logger } from '../log.ts';
import { WorkerIo } from '../runtime-io.ts';
import { type Authenticated, type AuthResult, createVerifier, type Verifier, type VerifierDeps } from './verifier.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The verified token, or `null` on a public route, a CORS preflight or an optional route without a token. */
    auth: AuthResult | null;
  }
}

export type EdgeVerifierOptions = VerifierDeps &
  ({ readonly config: Config } | { readonly vars: Vars }) & {
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
 * Authenticates one request: its route and identity, or the response to send instead (a
 * refusal, or the RFC 9728 metadata document, which is answered here and never forwarded).
 * The middleware and the gateway's single handler both use it, so the gateway does not pay for
 * a second Hono handler on every request. `url` is the request's parsed URL, for a caller that
 * needs it too (the gateway's proxy).
 */
export function requestGuard(
  verifier: Verifier,
  { kvBinding = 'JWKS_CACHE', log = consoleLogger }: GuardOptions = {},
): (c: Context, url?: URL) => Promise<Authenticated | Response> {
  const resource = verifier.config.resource;
  return async (c, url = new URL(c.req.url)) => {
    try {
      if (resource && url.pathname === resource.metadataPath) {
        const method = c.req.method;
        if (method !== 'GET' && method !== 'HEAD') throw new VerifierError('method_not_allowed');
        return resourceMetadataResponse(resource, method);
      }
      return await verifier.authenticate(c.req.raw, new WorkerIo(c.env, kvBinding, c), url);
    } catch (error) {
      return refuse(error, verifier.challenge, log, { method: c.req.method, path: url.pathname });
    }
  };
}

/** The middleware around an existing verifier (the gateway shares its verifier with the scheduled refresh). */
export function verifierMiddleware(verifier: Verifier, options: GuardOptions = {}): MiddlewareHandler {
  const guard = requestGuard(verifier, options);
  return async function edgeVerifierMiddleware(c, next) {
    const outcome = await guard(c);
    if (outcome instanceof Response) return outcome;
    c.set('auth', outcome.auth);
    await next();
  };
}

function configOf(options: EdgeVerifierOptions): Config {
  return 'config' in options ? options.config : parseConfig(options.vars);
}
