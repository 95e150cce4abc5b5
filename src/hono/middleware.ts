import type { Context, MiddlewareHandler } from 'hono';
import { type Config, parseConfig } from '../config.ts';
import { DEFAULT_LOG_SUCCESS_SAMPLE } from '../constants.ts';
import type { Vars } from '../env.ts';
import { VerifierError } from '../errors.ts';
import { refuse } from '../http/refuse.ts';
import { resourceMetadataResponse } from '../http/resource-metadata.ts';
import { newDecision } from '../observe/decision.ts';
import { consoleLogger, type LogLevel, levelledLogger } from '../observe/log.ts';
import { createReporter, type Reporter } from '../observe/report.ts';
import { type Authenticated, type AuthResult, createVerifier, type Verifier, type VerifierDeps } from '../verifier.ts';
import { WorkerIo } from '../worker/runtime-io.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** The verified token, or `null` on a public route, a CORS preflight or an optional route without a token. */
    auth: AuthResult | null;
  }
}

/** Options of `edgeVerifier`: a config or the variables it is parsed from, the verifier's dependencies, the KV binding and the log settings. */
export type EdgeVerifierOptions = VerifierDeps &
  ({ readonly config: Config } | { readonly vars: Vars }) & {
    /** Name of the KV binding for the shared key cache. Default `JWKS_CACHE`; absent binding = no KV tier. */
    readonly kvBinding?: string;
    /** Which lines are logged: `error`, `warn`, `info` or `debug` (`LOG_LEVELS`). Default `info`. */
    readonly logLevel?: LogLevel;
    /** The share of allowed requests whose decision line is written at `info`, 0 to 1. Default `DEFAULT_LOG_SUCCESS_SAMPLE`. */
    readonly logSuccessSample?: number;
  };

/**
 * Hono middleware: verifies the bearer token, sets `c.var.auth`, and answers every refusal
 * itself with the RFC 6750 response, so no handler behind it runs for an unverified request.
 * Options are validated here, once; a bad option throws at start-up, not per request.
 */
export function edgeVerifier(options: EdgeVerifierOptions): MiddlewareHandler {
  const log = levelledLogger(options.log ?? consoleLogger, options.logLevel ?? 'info');
  return verifierMiddleware(createVerifier(configOf(options), { ...options, log }), {
    kvBinding: options.kvBinding ?? 'JWKS_CACHE',
    report: createReporter(log, options.logLevel ?? 'info', {
      successSample: options.logSuccessSample ?? DEFAULT_LOG_SUCCESS_SAMPLE,
    }),
  });
}

/** A document the gateway answers itself, whatever the routes say: public, never passed on. Reports its own answer. */
export type OwnDocument = (c: Context, url: URL) => Response | Promise<Response>;

/** Options shared by the middleware and the gateway's handler. */
export interface GuardOptions {
  /** Name of the KV binding for the shared key cache. Default `JWKS_CACHE`. */
  readonly kvBinding?: string;
  /** Where each request's decision goes (log line, Analytics Engine). Default: one JSON line on `console.log`. */
  readonly report?: Reporter;
  /**
   * Documents answered by their path instead of being routed (the gateway's identity-assertion
   * JWKS); the RFC 9728 metadata is one whenever the policy names a resource. Default: none.
   */
  readonly documents?: readonly (readonly [path: string, answer: OwnDocument])[];
}

/**
 * Authenticates one request: its route and identity, or the response to send instead (a
 * refusal, or one of the gateway's own documents, answered here and never forwarded).
 * The middleware and the gateway's single handler both use it, so the gateway does not pay for
 * a second Hono handler on every request. `url` is the request's parsed URL and `path` its
 * path, for a caller that needs them too (the gateway's proxy). A response made here is
 * reported here; an admitted request is reported by the caller once it is answered.
 */
export function requestGuard(
  verifier: Verifier,
  { kvBinding = 'JWKS_CACHE', report = createReporter(consoleLogger, 'info'), documents: given }: GuardOptions = {},
): (c: Context, url?: URL, path?: string) => Promise<Authenticated | Response> {
  const resource = verifier.config.resource;
  const documents = [...(given ?? [])];
  if (resource) documents.push([resource.metadataPath, (c, url) => metadata(c, url, resource)]);
  const hasDocuments = documents.length > 0;
  // A loop over one or two paths, not a Map: comparing strings spares hashing the request's path
  // (a Map lookup cost about 0.8 k instructions more per request, `npm run bench:instructions`).
  const documentAt = (path: string): OwnDocument | undefined => {
    for (const [at, document] of documents) if (at === path) return document;
    return undefined;
  };
  return async (c, url = new URL(c.req.url), path) => {
    const decision = newDecision();
    try {
      // Answered before any route: a document is public whatever the route at its path requires.
      const document = hasDocuments ? documentAt(path ?? url.pathname) : undefined;
      if (document) return await document(c, url);
      const admitted = await verifier.authenticate(c.req.raw, new WorkerIo(c.env, kvBinding, c), url, decision);
      // Another spelling that routes read as a document's path (`//.well-known/…`, `%2E`) is never
      // passed on either; found from the path just normalised, so an ordinary request pays nothing.
      const spelt = hasDocuments && decision.matchedPath !== undefined ? documentAt(decision.matchedPath) : undefined;
      return spelt ? await spelt(c, url) : admitted;
    } catch (error) {
      return refuse(error, verifier.challenge, report, {
        method: c.req.method,
        path: url.pathname,
        decision,
        env: c.env,
      });
    }
  };

  function metadata(c: Context, url: URL, served: NonNullable<typeof resource>): Response {
    const method = c.req.method;
    if (method !== 'GET' && method !== 'HEAD') throw new VerifierError('method_not_allowed');
    const response = resourceMetadataResponse(served, method);
    report(c.env, { outcome: 'resource_metadata', status: 200, method, path: url.pathname, decision: newDecision() });
    return response;
  }
}

/** The middleware around an existing verifier (the gateway shares its verifier with the scheduled refresh). */
export function verifierMiddleware(verifier: Verifier, options: GuardOptions = {}): MiddlewareHandler {
  const report = options.report ?? createReporter(consoleLogger, 'info');
  const guard = requestGuard(verifier, { ...options, report });
  return async function edgeVerifierMiddleware(c, next) {
    // Parsed once, for the guard and the decision line.
    const url = new URL(c.req.url);
    const admitted = await guard(c, url);
    if (admitted instanceof Response) return admitted;
    c.set('auth', admitted.auth);
    await next();
    report(c.env, {
      outcome: 'allowed',
      status: c.res.status,
      method: admitted.method,
      path: url.pathname,
      decision: admitted.decision,
    });
  };
}

function configOf(options: EdgeVerifierOptions): Config {
  return 'config' in options ? options.config : parseConfig(options.vars);
}
