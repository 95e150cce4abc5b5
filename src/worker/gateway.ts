import { type Config, parseConfig } from '../config.ts';
import { DEFAULT_REALM } from '../constants.ts';
import { type Env, type Vars, variablesOf } from '../env.ts';
import { VerifierError } from '../errors.ts';
import { refuse } from '../http/refuse.ts';
import { consoleLogger } from '../observe/log.ts';
import { createReporter } from '../observe/report.ts';
import { parseObservability } from '../observe/settings.ts';
import { type AppDeps, createApp, GATEWAY_KV_BINDING, type GatewayApp } from './app.ts';
import { WorkerIo } from './runtime-io.ts';

type Built = GatewayApp | VerifierError;

/** Variables are fixed per deployment; the bound only guards against an env that changes per request. */
const MAX_BUILT_GATEWAYS = 16;

/** A Worker handler with both entry points. */
export type Gateway = Required<Pick<ExportedHandler<Env>, 'fetch' | 'scheduled'>>;

/** Options of `createGateway`: the app's dependencies, and a config or variables instead of the Worker's env. */
export interface GatewayOptions extends AppDeps {
  /** A config built in code. Default: parsed from the Worker's variables (flat or POLICY) on the first request. */
  readonly config?: Config;
}

/**
 * The gateway as a Worker: `export default createGateway()` is the whole of `src/index.ts`.
 * Without `config`, the config is parsed once per isolate from the Worker's variables, and a bad
 * one makes every request answer 500 `config_invalid` (never a forward). The verifier's memory
 * tier lives in the returned handler, so build it once, at module scope.
 */
export function createGateway(options: GatewayOptions = {}): Gateway {
  /**
   * Gateways built by this handler, by their variables: a new env object with the same
   * settings reuses the cache.
   */
  const built = new Map<string, Built>();
  let lastEnv: Env | undefined;
  let lastBuilt: Built | undefined;
  const { config } = options;
  const misconfigured = createReporter(options.log ?? consoleLogger, 'info');
  const fixed = config ? build(() => config) : undefined;

  /** The gateway for a config, or the configuration error every request will answer with. */
  function build(configOf: () => Config, vars?: Vars): Built {
    try {
      const observability = vars ? parseObservability(vars) : options.observability;
      return createApp(configOf(), { ...options, ...(observability ? { observability } : {}) });
    } catch (error) {
      const failure = error instanceof VerifierError ? error : new VerifierError('internal_error');
      (options.log ?? consoleLogger)('config_invalid', { error: failure.message });
      return failure;
    }
  }

  function gatewayFor(env: Env): Built {
    if (fixed) return fixed;
    if (env === lastEnv && lastBuilt) return lastBuilt;
    const vars = variablesOf(env);
    const key = JSON.stringify(vars);
    let entry = built.get(key);
    if (!entry) {
      entry = build(() => parseConfig(vars), vars);
      if (built.size >= MAX_BUILT_GATEWAYS) built.delete(built.keys().next().value as string);
      built.set(key, entry);
    }
    lastEnv = env;
    lastBuilt = entry;
    return entry;
  }

  return {
    fetch(request, env, ctx) {
      const gateway = gatewayFor(env);
      if (gateway instanceof VerifierError) {
        return refuse(gateway, { realm: DEFAULT_REALM }, misconfigured, {
          method: request.method,
          path: new URL(request.url).pathname,
          env,
        });
      }
      return gateway.app.fetch(request, env, ctx);
    },

    scheduled(_controller, env, ctx) {
      const gateway = gatewayFor(env);
      if (gateway instanceof VerifierError) return;
      ctx.waitUntil(gateway.verifier.refreshKeys(new WorkerIo(env, GATEWAY_KV_BINDING, { executionCtx: ctx })));
    },
  };
}
