import { createApp, type GatewayApp } from './app.ts';
import { parseConfig } from './config.ts';
import { DEFAULT_REALM } from './constants.ts';
import type { Env } from './env.ts';
import { VerifierError } from './errors.ts';
import { errorResponse } from './http/problem.ts';
import { consoleLogger } from './log.ts';

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

/** The variables `parseConfig` reads; other bindings (secrets, services) never shape the config. */
const VARIABLES = [
  'ISSUER',
  'AUDIENCE',
  'JWKS_URI',
  'ORIGIN',
  'ALGORITHMS',
  'REQUIRED_SCOPES',
  'CLOCK_SKEW_SECONDS',
  'JWKS_CACHE_TTL_SECONDS',
  'JWKS_REFRESH_COOLDOWN_SECONDS',
  'PUBLIC_PATHS',
  'REALM',
] as const satisfies readonly Exclude<keyof Env, 'JWKS_CACHE'>[];

function gatewayFor(env: Env): Built {
  if (env === lastEnv && lastBuilt) return lastBuilt;
  const vars = Object.fromEntries(VARIABLES.map((name) => [name, env[name]])) as Omit<Env, 'JWKS_CACHE'>;
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
      consoleLogger('request_refused', { code: gateway.code, error: gateway.message });
      return errorResponse(gateway, DEFAULT_REALM);
    }
    return gateway.app.fetch(request, env, ctx);
  },

  scheduled(_controller, env, ctx) {
    const gateway = gatewayFor(env);
    if (gateway instanceof VerifierError) return;
    ctx.waitUntil(
      gateway.verifier.refreshKeys({ kv: env.JWKS_CACHE, cache: caches.default, waitUntil: (p) => ctx.waitUntil(p) }),
    );
  },
} satisfies ExportedHandler<Env>;
