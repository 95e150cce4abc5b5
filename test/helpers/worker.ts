import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { parseConfig } from '../../src/config.ts';
import type { Env } from '../../src/env.ts';
import worker from '../../src/index.ts';
import type { Logger } from '../../src/observe/log.ts';
import { createApp, type GatewayApp } from '../../src/worker/app.ts';
import { AUDIENCE, type TestIssuer } from './issuer.ts';
import type { TestOrigin } from './origin.ts';

export const WORKER_URL = 'https://api.example.test';

/** Worker variables for a test's own issuer tenant and origin path. */
export function varsFor(issuer: TestIssuer, origin: TestOrigin, extra: Partial<Env> = {}): Env {
  return { ISSUER: issuer.url, AUDIENCE, JWKS_URI: issuer.jwksUri, ORIGIN: origin.url, ...extra };
}

/** The real KV binding from miniflare plus the given variables (`JWKS_CACHE: undefined` among them: no KV). */
export function envWith(vars: Env): Env {
  return 'JWKS_CACHE' in vars ? vars : { ...vars, JWKS_CACHE: (env as unknown as Env).JWKS_CACHE };
}

export function bearer(token: string, path = '/resource', init: RequestInit = {}): Request {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return new Request(`${WORKER_URL}${path}`, { ...init, headers });
}

/** A request through the Worker's own `fetch` entry, with `waitUntil` work awaited. */
export async function callWorker(request: Request, vars: Env): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(incoming(request), envWith(vars), ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** The Worker's handler types requests as incoming ones, with `cf` properties a test request lacks. */
export function incoming(request: Request): Request<unknown, IncomingRequestCfProperties> {
  return request as Request<unknown, IncomingRequestCfProperties>;
}

/** A gateway with its own clock, for TTL, cooldown and skew tests. */
export class ClockedGateway {
  nowMs = Date.now();
  readonly gateway: GatewayApp;

  constructor(
    readonly vars: Env,
    log: Logger = () => {},
  ) {
    this.gateway = createApp(parseConfig(vars), { now: () => this.nowMs, log });
  }

  /** Token time for tokens minted "now" on this gateway's clock. */
  get nowSeconds(): number {
    return Math.floor(this.nowMs / 1000);
  }

  advance(seconds: number): void {
    this.nowMs += seconds * 1000;
  }

  async call(request: Request): Promise<Response> {
    const ctx = createExecutionContext();
    const response = await this.gateway.app.fetch(request, envWith(this.vars), ctx);
    await waitOnExecutionContext(ctx);
    return response;
  }
}

/** Parses a single Bearer challenge into its parameters (test-side, deliberately strict). */
export function parseChallenge(header: string | null): Record<string, string> {
  if (header === null) throw new Error('no WWW-Authenticate header');
  const match = /^Bearer (.*)$/.exec(header);
  if (!match) throw new Error(`not a Bearer challenge: ${header}`);
  const params: Record<string, string> = {};
  const re = /([a-z_]+)="((?:[^"\\]|\\.)*)"(?:, |$)/gy;
  let consumed = 0;
  for (let m = re.exec(match[1] as string); m; m = re.exec(match[1] as string)) {
    params[m[1] as string] = (m[2] as string).replace(/\\(.)/g, '$1');
    consumed = re.lastIndex;
  }
  if (consumed !== (match[1] as string).length) throw new Error(`malformed challenge: ${header}`);
  return params;
}
