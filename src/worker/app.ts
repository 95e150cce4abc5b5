import { Hono } from 'hono';
import type { Config } from '../config.ts';
import type { Env } from '../env.ts';
import { VerifierError } from '../errors.ts';
import { type OwnDocument, requestGuard } from '../hono/middleware.ts';
import { assertionJwksResponse } from '../http/assertion-jwks.ts';
import { refuse } from '../http/refuse.ts';
import { createIdentityAssertions, type IdentityAssertions } from '../identity/identity-assertions.ts';
import { type Decision, newDecision } from '../observe/decision.ts';
import { consoleLogger, levelledLogger } from '../observe/log.ts';
import { createReporter, type Reporter } from '../observe/report.ts';
import { DEFAULT_OBSERVABILITY, type ObservabilitySettings } from '../observe/settings.ts';
import { createForwarder } from '../proxy/forward.ts';
import { createVerifier, type Verifier, type VerifierDeps } from '../verifier.ts';

export interface GatewayApp {
  readonly app: Hono<{ Bindings: Env }>;
  readonly verifier: Verifier;
}

export interface AppDeps extends VerifierDeps {
  /** Log level and Server-Timing (`LOG_LEVEL`, `SERVER_TIMING`). Default: `info`, no Server-Timing. */
  readonly observability?: ObservabilitySettings;
}

/** The KV binding the gateway's key cache uses, for requests and the scheduled refresh alike. */
export const GATEWAY_KV_BINDING = 'JWKS_CACHE';

/** The gateway: the same request guard the middleware library uses, then a proxy to the route's origin. */
export function createApp(config: Config, deps: AppDeps = {}): GatewayApp {
  const observability = deps.observability ?? DEFAULT_OBSERVABILITY;
  const log = levelledLogger(deps.log ?? consoleLogger, observability.logLevel);
  const now = deps.now ?? Date.now;
  const report = createReporter(log, observability.logLevel, { successSample: observability.successSample });
  const assertions = createIdentityAssertions(config);
  const forward = createForwarder(config, { ...deps, assertions });
  const verifier = createVerifier(config, { ...deps, log });
  const app = new Hono<{ Bindings: Env }>();
  const documents: [string, OwnDocument][] = assertions
    ? [[assertions.jwksPath, (c) => assertionJwks(c.req.raw, c.env as Env, assertions, report)]]
    : [];
  const guard = requestGuard(verifier, { kvBinding: GATEWAY_KV_BINDING, report, documents });
  app.all('*', async (c) => {
    // Parsed once; the origin receives the normalised path the route matched, never the raw one.
    const url = new URL(c.req.url);
    // Read once for the guard's own documents and the decision line: each read of a URL's member
    // is a call into the runtime.
    const path = url.pathname;
    const admitted = await guard(c, url, path);
    if (admitted instanceof Response) return admitted;
    const sentAt = now();
    const response = await forward(c.req.raw, admitted, c.env, sentAt);
    report(c.env, {
      outcome: 'forwarded',
      status: response.status,
      method: admitted.method,
      path,
      decision: admitted.decision,
      originMs: now() - sentAt,
    });
    // A 101 carries the socket and cannot be rebuilt with another header.
    return observability.serverTiming && !response.webSocket ? withServerTiming(response, admitted.decision) : response;
  });
  app.onError((error, c) =>
    refuse(error, verifier.challenge, report, { method: c.req.method, path: c.req.path, env: c.env }),
  );
  return { app, verifier };
}

/** The identity assertion's JWKS, for GET and HEAD; other methods 405 (with `Allow`, at the refusal boundary). */
async function assertionJwks(
  request: Request,
  env: Env,
  assertions: IdentityAssertions,
  report: Reporter,
): Promise<Response> {
  const method = request.method;
  if (method !== 'GET' && method !== 'HEAD') throw new VerifierError('method_not_allowed');
  const response = assertionJwksResponse(await assertions.publicKeys(env), method);
  report(env, {
    outcome: 'identity_assertion_jwks',
    status: 200,
    method,
    path: assertions.jwksPath,
    decision: newDecision(),
  });
  return response;
}

/**
 * The origin's response with our part of the time added (W3C Server-Timing): `auth` with the
 * verification time and the key's tier. The origin's own entries stay. The body still streams.
 */
function withServerTiming(response: Response, decision: Decision): Response {
  const headers = new Headers(response.headers);
  const tier = decision.keyTier ?? 'none';
  headers.append('server-timing', `auth;dur=${decision.verifyMs ?? 0};desc="${tier}"`);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
