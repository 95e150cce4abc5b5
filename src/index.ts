import { createApp, GATEWAY_KV_BINDING, type GatewayApp } from './app.ts';
import { parseConfig } from './config.ts';
import { DEFAULT_REALM } from './constants.ts';
import { type Env, variablesOf } from './env.ts';
import { VerifierError } from './errors.ts';
import { refuse } from './http/refuse.ts';
import { consoleLogger } from './log.ts';
import { WorkerIo } from './runtime-io.ts';

type Built = GatewayApp | VerifierError;

/**
 * Gateways built in this isolate, by their variables: config is parsed once, and the
 * verifier's memory tier survives across requests. Keyed by the variables' values rather
 * than the env object so that a new env object with the same settings reuses the cache.
 */
const built = new Map<string, Built>();
/** Variables are fixed per deployment; the bound only guards against an env that changes per request. */
const MAX_BUILT_GATEWAYS = 16;
let lastEnv: Env | undefined;
let lastBuilt: Built | undefined;

function gatewayFor(env: Env): Built {
  if (env === lastEnv && lastBuilt) return lastBuilt;
  const vars = variablesOf(env);
  const key = JSON.stringify(vars);
  let entry = built.get(key);
  if (!entry) {
    try {
      entry = createApp(parseConfig(vars));
    } catch (error) {
      entry = error instanceof VerifierError ? error : new VerifierError('internal_error');
      consoleLogger('config_invalid', { error: entry.message });
    }
    if (built.size >= MAX_BUILT_GATEWAYS) built.delete(built.keys().next().value as string);
    built.set(key, entry);
  }
  lastEnv = env;
  lastBuilt = entry;
  return entry;
}

export default {
  fetch(request, env, ctx) {
    const gateway = gatewayFor(env);
    if (gateway instanceof VerifierError) {
      return refuse(gateway, { realm: DEFAULT_REALM }, consoleLogger, {
        method: request.method,
        path: new URL(request.url).pathname,
      });
    }
    return gateway.app.fetch(request, env, ctx);
  },

  scheduled(_controller, env, ctx) {
    const gateway = gatewayFor(env);
    if (gateway instanceof VerifierError) return;
    ctx.waitUntil(gateway.verifier.refreshKeys(new WorkerIo(env, GATEWAY_KV_BINDING, { executionCtx: ctx })));
  },
} satisfies ExportedHandler<Env>;
