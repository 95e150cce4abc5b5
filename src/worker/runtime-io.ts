import type { RateLimiter } from '../authz/rate-limit.ts';
import { type ReplayGuard, type ReplayNamespace, sharedReplayGuard } from '../binding/dpop-replay.ts';
import { type CoordinatorNamespace, coordinatorClient } from '../coordinator/client.ts';
import type { KeySetCoordinator } from '../coordinator/protocol.ts';
import { COORDINATOR_BINDING, DPOP_REPLAY_BINDING } from '../env.ts';
import type { RequestIo } from '../verifier.ts';
import { readBinding, readSecret } from './secrets.ts';

/** Anything that may hold an execution context: Hono's `Context` (whose getter throws without one) or the runtime's own. */
export interface ExecutionContextSource {
  readonly executionCtx: Pick<ExecutionContext, 'waitUntil'>;
}

/**
 * The key resolver's I/O, built the same way for a request and for the scheduled refresh: the
 * KV binding named by `kvBinding` in the Worker's env, the data centre's Cache API, and
 * `waitUntil`, and the `JWKS_COORDINATOR` Durable Object when bound. Read lazily: only a cold start or a refresh touches it, so nothing is looked up
 * on the request path until then.
 */
export class WorkerIo implements RequestIo {
  readonly #env: unknown;
  readonly #kvBinding: string;
  readonly #context: ExecutionContextSource;

  constructor(env: unknown, kvBinding: string, context: ExecutionContextSource) {
    this.#env = env;
    this.#kvBinding = kvBinding;
    this.#context = context;
  }

  get kv(): KVNamespace | undefined {
    return this.#binding(this.#kvBinding) as KVNamespace | undefined;
  }

  /** The coordinator client when the Worker binds `JWKS_COORDINATOR`; only an upstream refresh reads it. */
  get coordinator(): KeySetCoordinator | undefined {
    const namespace = this.#binding(COORDINATOR_BINDING) as CoordinatorNamespace | undefined;
    return namespace && typeof namespace.idFromName === 'function'
      ? coordinatorClient(namespace, this.#kvBinding)
      : undefined;
  }

  #binding(name: string): unknown {
    return readBinding(this.#env, name);
  }

  /** The DPoP replay check shared by every isolate, when the Worker binds `DPOP_REPLAY`. */
  get dpopReplay(): ReplayGuard | undefined {
    const namespace = this.#binding(DPOP_REPLAY_BINDING) as ReplayNamespace | undefined;
    return namespace && typeof namespace.idFromName === 'function' ? sharedReplayGuard(namespace) : undefined;
  }

  /** The Rate Limiting binding of this name, when the Worker has one. */
  rateLimiter(name: string): RateLimiter | undefined {
    const binding = this.#binding(name) as Partial<RateLimiter> | undefined;
    return typeof binding?.limit === 'function' ? (binding as RateLimiter) : undefined;
  }

  /** A Worker secret (or variable) of this name, when it is text. */
  secret(name: string): string | undefined {
    return readSecret(this.#env, name);
  }

  get cache(): Cache | undefined {
    return typeof caches === 'undefined' ? undefined : caches.default;
  }

  waitUntil(promise: Promise<unknown>): void {
    let executionCtx: Pick<ExecutionContext, 'waitUntil'> | undefined;
    try {
      executionCtx = this.#context.executionCtx;
    } catch {
      // Hono throws when the runtime gave no execution context (e.g. app.request in a test).
    }
    if (executionCtx) executionCtx.waitUntil(promise);
    else void promise.catch(() => {});
  }
}
