/**
 * Micro-benchmark inside workerd. POST { op, n, tokens } runs `n` operations and answers when
 * done; the caller times the request from outside (workerd's clocks only move across I/O) and
 * subtracts an n = 0 baseline.
 *   raw-RS256 / raw-ES256: crypto.subtle.verify of one token's signature, n times;
 *   jose-RS256 / jose-ES256: jose's compactVerify (the signature check edge-verifier uses) over
 *     the given tokens, the key already imported (what jose adds around the raw verify);
 *   shape: edge-verifier's token shape check over the given tokens;
 *   normalize-ordinary / normalize-encoded: the request path normaliser on an ordinary path, and
 *     on one that takes its slow path (encodings, `//`, a dot segment);
 *   path: edge-verifier's whole authenticate() over the given tokens (unique or repeated);
 *   request: only the `Request` each path/gateway operation builds (its share, to subtract);
 *   gateway / passthrough: one whole request through edge-verifier's gateway, or through a
 *     Hono pass-through like system A, both with the origin answered in the isolate; the
 *     gateway with a no-op logger (what the Worker's own work costs);
 *   floor: the pass-through plus only the calls into the runtime that a verified forward of a
 *     repeated token requires (bench/workers/floor.ts): what the behaviour costs before any of
 *     edge-verifier's own JavaScript;
 *   gateway-assertion: the same gateway with an identity assertion on every forwarded request;
 *   gateway-<level>: the same gateway as deployed, writing its log lines with the real console
 *     logger at LOG_LEVEL=<level> (`gateway-default`: the default level);
 *   none: nothing (the cost of the POST itself);
 *   gc: a full garbage collection (memory pass only).
 */
import { compactVerify } from 'jose';
import { parseConfig } from '../../src/config.ts';
import { DEFAULT_PATH_RULES } from '../../src/constants.ts';
import { consoleLogger, type LogLevel } from '../../src/observe/log.ts';
import { DEFAULT_OBSERVABILITY } from '../../src/observe/settings.ts';
import { normalizePath } from '../../src/routing/normalize-path.ts';
import { parseTokenShape } from '../../src/token/token-shape.ts';
import { createVerifier } from '../../src/verifier.ts';
import { createApp } from '../../src/worker/app.ts';
import { createFloor } from './floor.ts';
import { createPassthrough } from './passthrough.ts';

type Bindings = {
  ISSUER: string;
  AUDIENCE: string;
  JWKS_URI: string;
  RS256_JWK: string;
  ES256_JWK: string;
  /** The identity assertion's signing keys (a JWK Set of one private ES256 key), for `gateway-assertion`. */
  ASSERTION_KEYS: string;
};

const ALGORITHMS = {
  RS256: { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verify: { name: 'RSASSA-PKCS1-v1_5' } },
  ES256: { import: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } },
} as const;

let verifier: ReturnType<typeof createVerifier> | undefined;
let gateways: Record<string, Gateway> | undefined;

const ORIGIN = 'https://origin.invalid';
const RESOURCE = 'https://edge.invalid/resource';
const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
const bearerRequest = (token: string) => new Request(RESOURCE, { headers: { authorization: `Bearer ${token}` } });

/**
 * The origin answers inside the isolate, so only the Worker's own work is counted (including the
 * Request that fetch would build from its arguments); the JWKS still comes over loopback.
 */
const originInIsolate: typeof fetch = (input, init) => {
  // fetch builds a Request from its arguments (converting init.headers) before it sends it, and
  // that is counted too; a Request given alone it sends as it is (workerd's Request::coerce).
  const request = input instanceof Request && init === undefined ? input : new Request(input, init);
  return request.url.startsWith(ORIGIN) ? Promise.resolve(new Response('{"ok":true}')) : fetch(request);
};

interface Gateway {
  readonly app: { fetch(request: Request, env: object, ctx: ExecutionContext): Response | Promise<Response> };
  readonly env: object;
}

function buildGateways(env: Bindings): Record<string, Gateway> {
  const config = parseConfig({ ISSUER: env.ISSUER, AUDIENCE: env.AUDIENCE, JWKS_URI: env.JWKS_URI, ORIGIN });
  const logged = (logLevel: LogLevel): Gateway => ({
    app: createApp(config, {
      fetch: originInIsolate,
      log: consoleLogger,
      observability: { ...DEFAULT_OBSERVABILITY, logLevel },
    }).app,
    env,
  });
  const asserting = parseConfig({
    ISSUER: env.ISSUER,
    AUDIENCE: env.AUDIENCE,
    JWKS_URI: env.JWKS_URI,
    ORIGIN,
    IDENTITY_ASSERTION_KEY: 'ASSERTION_KEYS',
    IDENTITY_ASSERTION_ISSUER: 'https://edge.invalid',
  });
  return {
    gateway: { app: createApp(config, { fetch: originInIsolate, log: () => {} }).app, env },
    'gateway-assertion': { app: createApp(asserting, { fetch: originInIsolate, log: () => {} }).app, env },
    'gateway-default': logged(DEFAULT_OBSERVABILITY.logLevel),
    'gateway-error': logged('error'),
    'gateway-warn': logged('warn'),
    'gateway-info': logged('info'),
    'gateway-debug': logged('debug'),
    // System A's own app (bench/workers/passthrough.ts).
    passthrough: { app: createPassthrough(originInIsolate), env: { ORIGIN } },
    // A plus only the runtime calls a verified forward requires (bench/workers/floor.ts).
    floor: { app: createFloor(originInIsolate), env: { ORIGIN } },
  };
}

function decode(segment: string): Uint8Array {
  const binary = atob(segment.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export default {
  async fetch(request: Request, env: Bindings): Promise<Response> {
    if (request.method !== 'POST') return new Response('micro-benchmark: POST { op, n, tokens }');
    const { op, n, tokens } = (await request.json()) as { op: string; n: number; tokens: string[] };
    // The memory pass runs this workerd with --expose-gc, to read what is held rather than what awaits collection.
    if (op === 'gc') {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (!gc) throw new Error('gc needs workerd started with --expose-gc');
      gc();
      return Response.json({ ok: n });
    }
    if (op === 'raw-RS256' || op === 'raw-ES256') {
      const alg = op.slice(4) as keyof typeof ALGORITHMS;
      const jwk = JSON.parse(alg === 'RS256' ? env.RS256_JWK : env.ES256_JWK);
      const key = await crypto.subtle.importKey('jwk', jwk, ALGORITHMS[alg].import, false, ['verify']);
      const [h, p, s] = (tokens[0] as string).split('.') as [string, string, string];
      const data = new TextEncoder().encode(`${h}.${p}`);
      const signature = decode(s);
      let ok = 0;
      for (let i = 0; i < n; i++) if (await crypto.subtle.verify(ALGORITHMS[alg].verify, key, signature, data)) ok++;
      return Response.json({ ok });
    }
    if (op === 'jose-RS256' || op === 'jose-ES256') {
      const alg = op.slice(5) as keyof typeof ALGORITHMS;
      const jwk = JSON.parse(alg === 'RS256' ? env.RS256_JWK : env.ES256_JWK);
      const key = await crypto.subtle.importKey('jwk', jwk, ALGORITHMS[alg].import, false, ['verify']);
      const options = { algorithms: [alg] };
      let ok = 0;
      for (let i = 0; i < n; i++)
        if ((await compactVerify(tokens[i % tokens.length] as string, key, options)).payload) ok++;
      return Response.json({ ok });
    }
    if (op === 'shape') {
      let ok = 0;
      for (let i = 0; i < n; i++) {
        parseTokenShape(tokens[i % tokens.length] as string);
        ok++;
      }
      return Response.json({ ok });
    }
    if (op === 'normalize-ordinary' || op === 'normalize-encoded') {
      // Parsed as a request's URL is, so the normaliser sees what it sees in the Worker.
      const sent = op === 'normalize-ordinary' ? '/api/v1/items/42' : '/%61pi//v1/./items/%34%32';
      const pathname = new URL(`https://edge.invalid${sent}`).pathname;
      let ok = 0;
      for (let i = 0; i < n; i++) if (normalizePath(pathname, DEFAULT_PATH_RULES).path === '/api/v1/items/42') ok++;
      return Response.json({ ok });
    }
    if (op === 'none') return Response.json({ ok: n });
    if (op === 'request') {
      let ok = 0;
      for (let i = 0; i < n; i++) if (bearerRequest(tokens[i % tokens.length] as string).url) ok++;
      return Response.json({ ok });
    }
    if (op === 'passthrough' || op === 'floor' || op.startsWith('gateway')) {
      gateways ??= buildGateways(env);
      const gateway = gateways[op];
      if (!gateway) throw new Error(`no operation ${op}`);
      const { app, env: appEnv } = gateway;
      let ok = 0;
      for (let i = 0; i < n; i++) {
        const response = await app.fetch(bearerRequest(tokens[i % tokens.length] as string), appEnv, ctx);
        if (response.status === 200) ok++;
      }
      return Response.json({ ok });
    }
    verifier ??= createVerifier(parseConfig({ ISSUER: env.ISSUER, AUDIENCE: env.AUDIENCE, JWKS_URI: env.JWKS_URI }), {
      log: () => {},
    });
    const io = { kv: undefined, cache: undefined, waitUntil: () => {} };
    let ok = 0;
    for (let i = 0; i < n; i++) {
      const token = tokens[i % tokens.length] as string;
      const { auth } = await verifier.authenticate(bearerRequest(token), io);
      if (auth) ok++;
    }
    return Response.json({ ok });
  },
};
