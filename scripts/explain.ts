/**
 * `npm run explain -- <token> [--method GET] [--path /api/x] [--config wrangler.toml] [--env NAME]`:
 * why would the Worker accept or refuse this token? It builds the gateway from the Worker config,
 * exactly as the Worker does, sends it the request, and prints what each step found: the route,
 * the issuer, where the key came from (fetched now from the issuer), the signature, the claim
 * checks, scopes and claim rules, and the final status with its challenge. The origin is never
 * called; the signature is never printed. Exit 0 only when the request would be forwarded.
 */
import { parseArgs } from 'node:util';
import { ERROR_SPECS, type ErrorCode, STAGES, type Stage } from '../src/errors.ts';
import { findWorkerConfig, readWorkerConfig } from './check-config.ts';

/** The Worker's own start-up and request path, loaded at run time (see check-config.ts for why). */
interface Worker {
  variablesOf(env: object): Record<string, unknown>;
  parseObservability(vars: object): unknown;
  parseConfig(vars: object): ExplainedConfig;
  routeLabel(route: object): string;
  createApp(
    config: ExplainedConfig,
    deps: object,
  ): { app: { fetch(r: Request, env: object, ctx: object): Promise<Response> } };
}

/** Where the config reads a token first: the token is sent there. */
type SourceConfig = { kind: 'authorization' } | { kind: 'header' | 'cookie' | 'query'; name: string };

interface ExplainedConfig {
  readonly tokenSources: readonly SourceConfig[];
  readonly issuers: readonly {
    id: string;
    issuer: string;
    audiences: readonly string[];
    clientIds: readonly string[];
    algorithms: readonly string[];
    tokenTypes?: readonly string[];
    requiredClaims: readonly string[];
    clockSkewSeconds: number;
    hmacSecret?: string;
    decryptionKeys?: string;
    introspection?: { clientSecret: string };
  }[];
  readonly routes: readonly { scopes: { all: readonly string[]; any: readonly string[] }; claims: readonly object[] }[];
  readonly origin: string | undefined;
  /** The identity assertion's secrets, taken from this process's environment like the issuers'. */
  readonly identityAssertions?: { readonly signingKeys: readonly string[] };
}

const worker = Object.assign(
  {},
  ...(await Promise.all(
    [
      '../src/env.ts',
      '../src/config.ts',
      '../src/worker/app.ts',
      '../src/observe/settings.ts',
      '../src/observe/decision.ts',
    ].map((module): Promise<object> => import(new URL(module, import.meta.url).href)),
  )),
) as Worker;

export interface ExplainRequest {
  readonly token: string;
  readonly method?: string;
  readonly path?: string;
  /** The Worker config file. Default: wrangler.toml (or .jsonc, .json) in the working directory. */
  readonly config?: string;
  readonly env?: string;
}

export interface Explanation {
  readonly lines: readonly string[];
  /** Whether the Worker would forward the request to the origin. */
  readonly forwarded: boolean;
}

/** The order in which the Worker checks a verified token's claims (src/token/check-claims.ts), with each failure's code. */
const CLAIM_CHECKS = [
  ['iss', 'the exact expected issuer', 'wrong_issuer'],
  ['aud', 'one of the audiences (or, with no aud, a listed client_id)', 'wrong_audience'],
  ['exp / nbf / iat', 'present, numbers, within the clock skew', 'token_expired|token_not_yet_valid|invalid_claims'],
] as const;

/** A Worker config, read and parsed, or the lines that say why it cannot be. */
type Loaded =
  | {
      readonly path: string;
      readonly env: Record<string, unknown>;
      readonly config: ExplainedConfig;
      readonly vars: object;
    }
  | Explanation;

function loadConfig(request: ExplainRequest, stub: (url: string) => Response): Loaded {
  const path = request.config ?? findWorkerConfig();
  if (path === undefined)
    return { lines: ['error: no wrangler.toml, wrangler.jsonc or wrangler.json here'], forwarded: false };
  const read = readWorkerConfig(path, request.env, path);
  if (Array.isArray(read)) return { lines: read.map((p) => `error: ${p.path}: ${p.problem}`), forwarded: false };
  const bindings = Object.fromEntries([
    ...(read.config.services ?? []).map((service) => [
      service.binding,
      { fetch: (input: RequestInfo) => stub(String(input instanceof Request ? input.url : input)) },
    ]),
    // One request is never over a limit: each Rate Limiting binding the file declares admits it.
    ...(read.config.ratelimits ?? []).map((limiter) => [limiter.name, { limit: async () => ({ success: true }) }]),
  ]);
  const env = { ...(read.config.vars ?? {}), ...bindings };
  const vars = worker.variablesOf(env);
  try {
    worker.parseObservability(vars);
    return { path, env, config: worker.parseConfig(vars), vars };
  } catch (error) {
    return {
      lines: [`config: ${(error as Error).message}`, 'result: 500 config_invalid (every request)'],
      forwarded: false,
    };
  }
}

/** What one request through the Worker showed: everything `describeRun` says comes from here. */
export interface WorkerRun {
  readonly token: string;
  readonly method: string;
  readonly path: string;
  /** Where the config came from, as the first lines say it. */
  readonly source: string;
  readonly config: ExplainedConfig;
  /** The request's decision line. */
  readonly decision: Readonly<Record<string, unknown>>;
  readonly fetched: readonly string[];
  readonly answers: readonly string[];
  readonly originCalls: readonly string[];
  readonly status: number;
  readonly challenge: string | null;
}

export async function explain(request: ExplainRequest): Promise<Explanation> {
  const originCalls: string[] = [];
  const stub = (url: string) => {
    originCalls.push(url);
    return new Response('not called', { status: 200 });
  };
  const loaded = loadConfig(request, stub);
  if ('lines' in loaded) return loaded;
  const { config, env, vars } = loaded;
  const origins = [config.origin, ...config.routes.map((route) => (route as { origin?: string }).origin)].filter(
    (origin): origin is string => typeof origin === 'string',
  );
  // Key fetches go out for real; a request to an origin is recorded instead of sent.
  const fetched: string[] = [];
  const answers: string[] = [];
  // The secrets the config names live outside the file: taken from this process's environment.
  const secrets = Object.fromEntries(
    [
      ...config.issuers.flatMap((issuer) => [
        issuer.hmacSecret,
        issuer.decryptionKeys,
        issuer.introspection?.clientSecret,
      ]),
      ...(config.identityAssertions?.signingKeys ?? []),
    ].flatMap((name) => (name !== undefined && process.env[name] !== undefined ? [[name, process.env[name]]] : [])),
  );
  const recordingFetch: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (origins.some((origin) => url.startsWith(origin))) return stub(url);
    fetched.push(url);
    const response = await fetch(input, init);
    // An introspection call (the only POST the verifier makes): its answer, never the token sent.
    if (init?.method === 'POST') answers.push(await response.clone().text());
    return response;
  };
  const decisions: Record<string, unknown>[] = [];
  const { app } = worker.createApp(config, {
    fetch: recordingFetch,
    // Every decision is this run's to describe: none is left out of the success sample.
    observability: { ...(worker.parseObservability(vars) as object), successSample: 1 },
    log: (event: string, fields?: Record<string, unknown>) => {
      if (event === 'request') decisions.push(fields ?? {});
    },
  });
  const method = request.method ?? 'GET';
  const path = request.path ?? '/';
  const pending: Promise<unknown>[] = [];
  const response = await app.fetch(
    carrying(request.token, config.tokenSources[0] ?? { kind: 'authorization' }, method, path),
    { ...env, ...secrets },
    { waitUntil: (promise: Promise<unknown>) => pending.push(promise), passThroughOnException() {}, props: {} },
  );
  await Promise.allSettled(pending);
  return describeRun({
    token: request.token,
    method,
    path,
    source: `config ${loaded.path}${request.env ? `, env ${request.env}` : ''}`,
    config,
    decision: decisions[0] ?? {},
    fetched,
    answers,
    originCalls,
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
  });
}

/** The Worker's config from its variables, as explain reads it (for `describeRun` outside a run). */
export function explainedConfig(vars: object): ExplainedConfig {
  return worker.parseConfig(worker.variablesOf(vars));
}

/** What a run showed, line by line; a stage is marked from the outcome's stage in ERROR_SPECS only. */
export function describeRun(run: WorkerRun): Explanation {
  const { config, decision } = run;
  const lines: string[] = [];
  const say = (line: string) => lines.push(line);
  const outcome = String(decision.outcome ?? 'unknown');
  describeToken(run.token, say);
  say(`request: ${run.method} ${run.path} (${run.source})`);
  if (decision.matched_path !== undefined) say(`path as matched and forwarded: ${decision.matched_path}`);
  const unrouted = outcome === 'no_route' ? 'none matches (404 no_route)' : `not matched (${outcome})`;
  say(`route: ${decision.route === undefined ? unrouted : `${decision.route}`}`);
  const issuer = config.issuers.find((candidate) => candidate.id === decision.issuer);
  if (decision.route !== undefined) {
    say(
      issuer
        ? `issuer: ${issuer.id} (${issuer.issuer}), chosen by the token's iss`
        : `issuer: none of the route's issuers has this token's iss`,
    );
  }
  if (decision.token_source !== undefined) say(`token read from: ${decision.token_source}`);
  if (decision.tenant !== undefined) say(`tenant: ${decision.tenant}, named by the token's iss and its tenant claim`);
  for (const url of run.fetched) say(`fetched now: ${url}`);
  for (const answer of run.answers) say(`introspection answer: ${answer}`);
  if (decision.key_tier !== undefined) {
    say(`key: ${decision.kid === undefined ? '' : `kid ${decision.kid}, `}from ${decision.key_tier}`);
  }
  describeStages(run, outcome, issuer, say);
  say(`result: ${run.status} ${outcome}${run.challenge ? `, WWW-Authenticate: ${run.challenge}` : ''}`);
  const forwarded = outcome === 'forwarded';
  if (forwarded) say(`would be forwarded to ${run.originCalls[0] ?? 'the origin'} (not called)`);
  return { lines, forwarded };
}

/** The stages line, then each check of the stages the token reached, marked from the outcome's stage. */
function describeStages(
  { config, decision }: WorkerRun,
  outcome: string,
  issuer: ExplainedConfig['issuers'][number] | undefined,
  say: (line: string) => void,
): void {
  const marks = stageMarks(outcome);
  say(`stages: ${STAGES.map((stage) => `${stage} ${marks[stage]}`).join(', ')}`);
  // An opaque token has no signature to speak of: the introspection answer stands in for it.
  const opaque = decision.key_tier === 'introspection' || decision.key_tier === 'introspection_cache';
  if (issuer && opaque) say(`introspection (RFC 7662), active: ${marks.signature}; its claims: ${marks.claims}`);
  else if (issuer) {
    say(`signature (${issuer.algorithms.join(', ')} allowed): ${marks.signature}`);
    if (marks.signature === 'ok') claimLines(issuer, outcome, marks, say);
  }
  const route = config.routes.find((_, i) => i === routeIndex(config, String(decision.route ?? '')));
  if (route && marks.claims === 'ok') {
    const { all, any } = route.scopes;
    if (all.length > 0 || any.length > 0) {
      say(
        `scopes: all of [${all.join(' ')}], any of [${any.join(' ')}]: ${outcome === 'insufficient_scope' ? 'FAILED' : marks.authorization}`,
      );
    }
    if (route.claims.length > 0 && outcome !== 'insufficient_scope') {
      say(`claim rules (${route.claims.length}): ${outcome === 'claim_mismatch' ? 'FAILED' : marks.authorization}`);
    }
  }
}

type Mark = 'ok' | 'FAILED' | '–';

/**
 * Each stage's mark for a request with this outcome, from the refusal's stage in ERROR_SPECS:
 * passed before it, FAILED at it, not reached after. A forwarded request passed every stage but
 * the origin, which explain never calls; an outcome that is not a known code marks nothing passed.
 */
export function stageMarks(outcome: string): Record<Stage, Mark> {
  const spec = Object.hasOwn(ERROR_SPECS, outcome) ? ERROR_SPECS[outcome as ErrorCode] : undefined;
  const passedAll = outcome === 'forwarded' || outcome === 'allowed';
  const failedAt = spec ? STAGES.indexOf(spec.stage) : passedAll ? STAGES.indexOf('origin') : -1;
  const mark = (i: number): Mark =>
    failedAt < 0 ? '–' : i < failedAt ? 'ok' : i === failedAt && spec ? 'FAILED' : '–';
  return Object.fromEntries(STAGES.map((stage, i) => [stage, mark(i)])) as Record<Stage, Mark>;
}

/** The claim checks of a token whose signature passed, in the order the Worker makes them, each with its mark. */
function claimLines(
  issuer: ExplainedConfig['issuers'][number],
  outcome: string,
  marks: Record<Stage, Mark>,
  say: (line: string) => void,
): void {
  if (issuer.tokenTypes) {
    say(`typ one of ${issuer.tokenTypes.join(', ')}: ${outcome === 'wrong_token_type' ? 'FAILED' : marks.claims}`);
    if (outcome === 'wrong_token_type') return;
  }
  for (const [claim, rule, codes] of CLAIM_CHECKS) {
    const failed = codes.split('|').includes(outcome);
    say(`claims: ${claim}, ${rule}: ${failed ? 'FAILED' : marks.claims}`);
    if (failed) return;
  }
  if (issuer.requiredClaims.length > 0) say(`claims: required ${issuer.requiredClaims.join(', ')}: ${marks.claims}`);
}

/** The request, with the token where the config reads it first. */
function carrying(token: string, source: SourceConfig, method: string, path: string): Request {
  const url = new URL(`https://worker.explain${path}`);
  const headers = new Headers();
  if (source.kind === 'authorization') headers.set('authorization', `Bearer ${token}`);
  else if (source.kind === 'header') headers.set(source.name, token);
  else if (source.kind === 'cookie') headers.set('cookie', `${source.name}=${token}`);
  else url.searchParams.set(source.name, token);
  return new Request(url, { method, headers });
}

/** The index of the route whose label the decision line gave, labelled as the Worker labels them. */
function routeIndex(config: ExplainedConfig, label: string): number {
  return config.routes.findIndex((route) => worker.routeLabel(route) === label);
}

/** The token's header and claims as sent (the signature is never printed). */
function describeToken(token: string, say: (line: string) => void): void {
  const [header, payload, signature] = token.split('.');
  const decode = (segment: string | undefined) => {
    try {
      return JSON.stringify(JSON.parse(Buffer.from(segment ?? '', 'base64url').toString('utf8')));
    } catch {
      return '(not base64url JSON)';
    }
  };
  say(`token header: ${decode(header)}`);
  say(`token claims: ${decode(payload)}`);
  say(`token signature: ${Buffer.from(signature ?? '', 'base64url').length} bytes (not shown)`);
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    options: {
      method: { type: 'string', default: 'GET' },
      path: { type: 'string', default: '/' },
      config: { type: 'string' },
      env: { type: 'string' },
    },
    allowPositionals: true,
  });
  const token = positionals[0];
  if (token === undefined || positionals.length > 1) {
    console.error(
      'usage: npm run explain -- <token> [--method GET] [--path /api/x] [--config wrangler.toml] [--env NAME]',
    );
    process.exit(2);
  }
  const { lines, forwarded } = await explain({
    token,
    method: values.method,
    path: values.path,
    ...(values.config ? { config: values.config } : {}),
    ...(values.env ? { env: values.env } : {}),
  });
  for (const line of lines) console.log(line);
  process.exitCode = forwarded ? 0 : 1;
}
