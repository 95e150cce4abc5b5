/**
 * `npm run check-config [-- wrangler.toml|wrangler.jsonc|wrangler.json] [--env NAME]`: checks a
 * Worker config before it is deployed, offline. wrangler itself reads the file (TOML, JSON or
 * JSONC, with `[env.NAME]` applied as `wrangler deploy --env NAME` applies it); the `vars` then go
 * through the Worker's own start-up (the variables' parser, then the gateway build), and the
 * bindings that config implies are looked for. One line per problem; exit 1 on any error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseArgs, parseEnv, stripVTControlCharacters } from 'node:util';
import { experimental_readRawConfig, unstable_readConfig } from 'wrangler';
import { IDENTITY_SIGNING_SECRET_MIN_LENGTH } from '../src/constants.ts';
import { ConfigError } from '../src/errors.ts';

/** The Worker's start-up, as far as this check calls it: the same functions the gateway runs. */
interface WorkerStartUp {
  /** Every variable the Worker reads, and those POLICY replaces. */
  readonly VARIABLES: readonly string[];
  readonly FLAT_VARIABLES: readonly string[];
  readonly GATEWAY_KV_BINDING: string;
  readonly HMAC_ALGORITHMS: Readonly<Record<string, { readonly minBytes: number }>>;
  readonly DURABLE_OBJECTS: readonly { readonly binding: string; readonly className: string; readonly role: string }[];
  /** Every secret the Worker reads (src/env.ts): those with a `name` are read under it. */
  readonly SECRETS: readonly { readonly name?: string; readonly what: string; readonly minLength?: number }[];
  variablesOf(env: object): Vars;
  parseObservability(vars: Vars): unknown;
  parseConfig(vars: Vars): StartedConfig;
  createApp(config: StartedConfig, deps: { readonly fetch: typeof fetch; readonly log: () => void }): unknown;
  /** The identity assertion secret's shape (src/identity/assertion-keys.ts): each key's alg and kid. */
  checkAssertionKeys(
    secretName: string,
    text: string,
  ): readonly { readonly kid: string; readonly family: { readonly alg: string } }[];
}

type Vars = Readonly<Record<string, unknown>>;

/** What this check reads of the parsed config. */
interface StartedConfig {
  readonly issuers: readonly {
    readonly id: string;
    readonly algorithms: readonly string[];
    readonly hmacSecret: string | undefined;
    readonly introspection: { readonly clientSecret: string } | undefined;
  }[];
  readonly routes: readonly {
    readonly originService: string | undefined;
    readonly rateLimit: { readonly binding: string; readonly periodSeconds: number } | undefined;
  }[];
  readonly originService: string | undefined;
  readonly signingSecret: string | undefined;
  readonly identityAssertions: { readonly signingKeys: readonly string[] } | undefined;
}

// Loaded at run time: these modules are typed for the Workers runtime (KVNamespace, Fetcher),
// which the scripts are not type-checked against. Same module URLs as every other import, so
// `ConfigError` above is the class they throw.
const worker = Object.assign(
  {},
  ...(await Promise.all(
    [
      '../src/env.ts',
      '../src/config.ts',
      '../src/worker/app.ts',
      '../src/observe/settings.ts',
      '../src/constants.ts',
      '../src/identity/assertion-keys.ts',
    ].map((module): Promise<object> => import(new URL(module, import.meta.url).href)),
  )),
) as WorkerStartUp;
const { DURABLE_OBJECTS, FLAT_VARIABLES, GATEWAY_KV_BINDING, HMAC_ALGORITHMS, SECRETS, VARIABLES } = worker;
/** The secrets the Worker reads under their own names. */
const FIXED_SECRETS = new Map(SECRETS.flatMap((secret) => (secret.name === undefined ? [] : [[secret.name, secret]])));

/** Looked for in this order in the working directory when no file is given. */
export const CONFIG_FILES = ['wrangler.toml', 'wrangler.jsonc', 'wrangler.json'] as const;

export interface Problem {
  /** An error fails the check; a warning is printed only. */
  readonly severity: 'error' | 'warning';
  /** Where: `vars.POLICY.routes[2].scopes.any[0]`, `env.staging.kv_namespaces`, or the file itself. */
  readonly path: string;
  readonly problem: string;
}

export interface CheckOptions {
  /** The `[env.NAME]` to apply, as `wrangler deploy --env NAME` does. Default: the top level only. */
  readonly env?: string | undefined;
  /** Clock in epoch milliseconds, for the compatibility date. Default `Date.now`. */
  readonly now?: () => number;
}

export interface ConfigReport {
  /** The file checked, relative to the working directory. */
  readonly file: string;
  readonly problems: readonly Problem[];
  /** What was checked, in one line: the variables, the bindings, the date and the entry module. */
  readonly checked: string;
}

/** The part of wrangler's resolved config (one environment, its values applied) that is checked. */
interface WorkerConfig {
  readonly main?: string;
  readonly compatibility_date?: string;
  readonly vars?: Readonly<Record<string, unknown>>;
  readonly kv_namespaces?: readonly { readonly binding: string; readonly id?: string }[];
  readonly services?: readonly { readonly binding: string }[];
  readonly ratelimits?: readonly { readonly name: string; readonly simple?: { readonly period?: number } }[];
  readonly durable_objects?: {
    readonly bindings?: readonly {
      readonly name: string;
      readonly class_name: string;
      readonly script_name?: string;
    }[];
  };
  readonly migrations?: readonly {
    readonly new_classes?: readonly string[];
    readonly new_sqlite_classes?: readonly string[];
    readonly renamed_classes?: readonly { readonly to: string }[];
  }[];
}

/** The first of `CONFIG_FILES` in `dir`, or `undefined`. */
export function findWorkerConfig(dir: string = process.cwd()): string | undefined {
  return CONFIG_FILES.map((name) => resolve(dir, name)).find((file) => existsSync(file));
}

/** Every problem in a Worker config file, for one environment. Reads the file; no network. */
export function checkWorkerConfig(path: string, options: CheckOptions = {}): ConfigReport {
  const file = relative(process.cwd(), path) || path;
  const { env, now = Date.now } = options;
  const read = readWorkerConfig(path, env, file);
  if (Array.isArray(read)) return { file, problems: read, checked: `${file}: wrangler could not read it` };
  const { config, envSection } = read;

  const problems: Problem[] = [];
  const seen = new Set<string>();
  const add = (severity: Problem['severity']) => (at: string, problem: string) => {
    const key = `${severity} ${at} ${problem}`;
    if (!seen.has(key)) problems.push({ severity, path: at, problem });
    seen.add(key);
  };
  const checking: Checking = {
    file,
    env,
    // wrangler takes `[env.NAME]` whole for what environments do not inherit (vars, bindings),
    // and key by key for the rest (main, compatibility_date): name the table the value came from.
    at: (key, inherited = false) =>
      env !== undefined && (!inherited || envSection?.[key] !== undefined) ? `env.${env}.${key}` : key,
    error: add('error'),
    warn: add('warning'),
  };

  const services = (config.services ?? []).map((service) => service.binding);
  const variables = checkVariables(checking, config.vars ?? {}, services);
  checkOriginServices(checking, variables, new Set(services));
  const limiters = checkRateLimits(checking, variables, config.ratelimits ?? []);
  const assertionKeys = checkAssertionSecrets(checking, config.vars ?? {}, variables.config, path);
  checkKeyCache(checking, config.kv_namespaces ?? []);
  const durableObjects = DURABLE_OBJECTS.filter((object) =>
    checkDurableObject(checking, object, config.durable_objects?.bindings ?? [], config.migrations ?? []),
  ).map((object) => object.binding);
  checkCompatibilityDate(checking, config.compatibility_date, new Date(now()).toISOString().slice(0, 10));
  checkEntryModule(checking, config.main);

  const parsed = variables.config;
  const shape = parsed ? ` (${count(parsed.issuers.length, 'issuer')}, ${count(parsed.routes.length, 'route')})` : '';
  const secret = variables.secret === undefined ? '' : `, secret ${variables.secret}`;
  const checked = [
    `${variables.policy ? 'POLICY' : 'flat variables'}${shape}${variables.started ? ', gateway start-up' : ''}`,
    `bindings ${[GATEWAY_KV_BINDING, ...durableObjects, ...services, ...limiters].join(', ')}${secret}`,
    ...assertionKeys,
    `compatibility_date ${config.compatibility_date ?? 'absent'}`,
    `main ${config.main === undefined ? 'absent' : relative(process.cwd(), config.main)}`,
  ].join(', ');
  return { file, problems, checked: `${file}${env === undefined ? '' : ` --env ${env}`}: ${checked}` };
}

/** Where a value sits in the file, and where its problems go (each path and text once). */
interface Checking {
  readonly file: string;
  readonly env: string | undefined;
  /** `key`, or `env.NAME.key` when the environment supplies it; `inherited`: the top level's unless it does. */
  at(key: string, inherited?: boolean): string;
  error(path: string, problem: string): void;
  warn(path: string, problem: string): void;
}

interface VariablesChecked {
  /** Whether POLICY is set (else the flat variables apply). */
  readonly policy: boolean;
  /** The parsed config; `undefined` when the parser refused the variables. */
  readonly config: StartedConfig | undefined;
  /** Whether the gateway was built from it. */
  readonly started: boolean;
  /** The Worker secret `POLICY.sign_headers.secret` names. */
  readonly secret: string | undefined;
}

/**
 * The variables through the gateway's own start-up, step by step so that one problem does not
 * hide the next: their types, `LOG_LEVEL` and `SERVER_TIMING`, the config, then the gateway. The
 * env it reads them from holds the file's service bindings too, as stubs that fetch nothing.
 */
function checkVariables(checking: Checking, raw: Vars, services: readonly string[]): VariablesChecked {
  const varsAt = checking.at('vars');
  const policy = raw.POLICY !== undefined && raw.POLICY !== '';
  const secretNamed = signingSecretOf(raw.POLICY);
  const known = new Set<string>(VARIABLES);
  const usable: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name === secretNamed) continue;
    const fixed = FIXED_SECRETS.get(name);
    if (fixed) {
      checking.error(
        `${varsAt}.${name}`,
        `is a Worker secret (${fixed.what}), in clear text: remove it and run ${secretPut(checking, name)}`,
      );
    } else if (!known.has(name)) checking.warn(`${varsAt}.${name}`, 'is not a variable the Worker reads (misspelt?)');
    else if (name !== 'POLICY' && typeof value !== 'string') {
      // The parser reads every variable but POLICY as text: a TOML number or boolean stops the
      // Worker at start-up without naming the variable.
      checking.error(
        `${varsAt}.${name}`,
        `must be a string (${JSON.stringify(String(value))}, in quotes), not a ${typeof value}`,
      );
    } else usable[name] = value;
  }

  const bindings = Object.fromEntries(services.map((name) => [name, { fetch: offline }]));
  const vars = worker.variablesOf({ ...bindings, ...usable });
  const attempt = <T>(step: () => T): T | undefined => {
    try {
      return step();
    } catch (failure) {
      if (!(failure instanceof ConfigError)) throw failure;
      checking.error(`${varsAt}.${failure.variable}`, failure.problem);
      return undefined;
    }
  };
  attempt(() => worker.parseObservability(vars));
  let config = attempt(() => worker.parseConfig(vars));
  if (config === undefined && policy && FLAT_VARIABLES.some((name) => vars[name] !== undefined)) {
    // POLICY beside a flat variable stops the parser there: check the policy on its own too.
    const flat = new Set(FLAT_VARIABLES);
    config = attempt(() =>
      worker.parseConfig(Object.fromEntries(Object.entries(vars).filter(([name]) => !flat.has(name)))),
    );
  }
  const started =
    config !== undefined && attempt(() => worker.createApp(config, { fetch: offline, log: () => {} })) !== undefined;

  const secret = config?.signingSecret ?? secretNamed;
  if (secret !== undefined && Object.hasOwn(raw, secret)) {
    checking.error(
      `${varsAt}.${secret}`,
      `holds the signing secret that ${varsAt}.POLICY.sign_headers.secret names, in clear text: a signing secret must not live in ${basename(checking.file)}; remove it and run ${secretPut(checking, secret)}`,
    );
  } else if (secret !== undefined) {
    checking.warn(
      `${varsAt}.POLICY.sign_headers.secret`,
      `names ${secret}, a secret the file cannot hold: set it (at least ${IDENTITY_SIGNING_SECRET_MIN_LENGTH} characters) with ${secretPut(checking, secret)}`,
    );
  }
  if (config) checkIssuerSecrets(checking, raw, config, policy);
  return { policy, config, started, secret };
}

/**
 * The secrets an issuer names (its HMAC secret, its introspection client secret) are Worker
 * secrets: never in the file. An HMAC secret must be as long as its longest hash (the Worker
 * refuses a shorter one with 500 on the first HS* token; here it is said before deploy).
 */
function checkIssuerSecrets(checking: Checking, raw: Vars, config: StartedConfig, policy: boolean): void {
  const varsAt = checking.at('vars');
  for (const issuer of config.issuers) {
    const named = [
      {
        secret: issuer.hmacSecret,
        what: 'HMAC secret',
        at: policy ? `${varsAt}.POLICY.issuers.${issuer.id}.hmac_secret` : `${varsAt}.HMAC_SECRET`,
        needs: issuer.algorithms.flatMap((alg) => {
          const hmac = HMAC_ALGORITHMS[alg];
          return hmac ? [`${hmac.minBytes} bytes for ${alg}`] : [];
        }),
      },
      {
        secret: issuer.introspection?.clientSecret,
        what: 'introspection client secret',
        at: policy
          ? `${varsAt}.POLICY.issuers.${issuer.id}.introspection.client_secret`
          : `${varsAt}.INTROSPECTION_CLIENT_SECRET`,
        needs: [],
      },
    ];
    for (const { secret, what, at, needs } of named) {
      if (secret === undefined) continue;
      if (Object.hasOwn(raw, secret)) {
        checking.error(
          `${varsAt}.${secret}`,
          `holds the ${what} that ${at} names, in clear text: remove it and run ${secretPut(checking, secret)}`,
        );
        continue;
      }
      const length = needs.length > 0 ? ` (at least ${needs.join(', ')})` : '';
      checking.warn(
        at,
        `names ${secret}, a secret the file cannot hold: set it${length} with ${secretPut(checking, secret)}`,
      );
    }
  }
}

function secretPut({ env }: Checking, secret: string): string {
  return `npx wrangler secret put ${secret}${env === undefined ? '' : ` --env ${env}`}`;
}

/**
 * Every service binding a POLICY forwards through must be bound: the Worker finds out per request
 * only. (The flat variables use `ORIGIN_SERVICE` only when it is bound, else refuse to start.)
 */
function checkOriginServices(
  checking: Checking,
  { policy, config }: VariablesChecked,
  bound: ReadonlySet<string>,
): void {
  if (!policy) return;
  const varsAt = checking.at('vars');
  const named: { name: string; by: string }[] = [];
  if (config?.originService !== undefined) {
    named.push({ name: config.originService, by: `which ${varsAt}.POLICY.origin_service names` });
  }
  config?.routes.forEach((route, i) => {
    if (route.originService !== undefined) {
      named.push({ name: route.originService, by: `which ${varsAt}.POLICY.routes[${i}].origin_service names` });
    }
  });
  for (const { name, by } of named) {
    if (!bound.has(name)) {
      checking.error(
        checking.at('services'),
        `binds no ${name}, ${by}: every request forwarded through it would answer 500`,
      );
    }
  }
}

/**
 * Every Rate Limiting binding a route names is declared in `[[ratelimits]]` (the Worker finds
 * out per request only), with the period the route repeats as its Retry-After. Returns the
 * bindings named.
 */
function checkRateLimits(
  checking: Checking,
  { config }: VariablesChecked,
  declared: NonNullable<WorkerConfig['ratelimits']>,
): string[] {
  const varsAt = checking.at('vars');
  const named = new Set<string>();
  config?.routes.forEach((route, i) => {
    if (route.rateLimit === undefined) return;
    const { binding, periodSeconds } = route.rateLimit;
    named.add(binding);
    const at = `${varsAt}.POLICY.routes[${i}].rate_limit`;
    const j = declared.findIndex((limiter) => limiter.name === binding);
    const limiter = declared[j];
    if (limiter === undefined) {
      checking.error(
        checking.at('ratelimits'),
        `declares no ${binding}, which ${at}.binding names: every request on that route would answer 500`,
      );
      return;
    }
    // wrangler's own default when simple.period is left out.
    const period = limiter.simple?.period ?? 60;
    if (period !== periodSeconds) {
      checking.error(
        `${at}.period_seconds`,
        `is ${periodSeconds}, but ${binding} counts over ${period} s (${checking.at('ratelimits')}[${j}].simple.period): a refusal's Retry-After would be wrong`,
      );
    }
  });
  return [...named];
}

/**
 * The identity assertion's secrets: never in the file. One that wrangler dev's `.dev.vars` (beside
 * the file; `.dev.vars.<env>` with --env) holds is checked as the Worker would: EC P-256 or
 * Ed25519 private keys, each with a kid. Returns what was checked, for the summary line.
 */
function checkAssertionSecrets(
  checking: Checking,
  raw: Vars,
  config: StartedConfig | undefined,
  file: string,
): string[] {
  const varsAt = checking.at('vars');
  const local = readDevVars(file, checking.env);
  const checked: string[] = [];
  for (const secret of config?.identityAssertions?.signingKeys ?? []) {
    if (Object.hasOwn(raw, secret)) {
      checking.error(
        `${varsAt}.${secret}`,
        `holds the identity assertion's private keys in clear text: remove it and run ${secretPut(checking, secret)}`,
      );
      continue;
    }
    const text = local.values[secret];
    if (text === undefined) {
      checking.warn(
        `${varsAt}.POLICY.identity_assertion.signing_key`,
        `names ${secret}, a secret the file cannot hold: set it (a JWK Set of private EC P-256 or Ed25519 keys, each with a kid; the first signs) with ${secretPut(checking, secret)}`,
      );
      continue;
    }
    try {
      const keys = worker.checkAssertionKeys(secret, text);
      checked.push(
        `secret ${secret} in ${local.name} (${keys.map((key) => `${key.family.alg} ${key.kid}`).join(', ')})`,
      );
    } catch (failure) {
      if (!(failure instanceof ConfigError)) throw failure;
      checking.error(`${local.name}: ${secret}`, failure.problem);
    }
  }
  return checked;
}

/** wrangler dev's local secrets beside the config file, as wrangler reads them; none when there is no such file. */
function readDevVars(file: string, env: string | undefined): { name: string; values: Record<string, string> } {
  const dir = dirname(resolve(file));
  const names = env === undefined ? ['.dev.vars'] : [`.dev.vars.${env}`, '.dev.vars'];
  for (const name of names) {
    const path = join(dir, name);
    if (existsSync(path)) return { name, values: parseEnv(readFileSync(path, 'utf8')) as Record<string, string> };
  }
  return { name: '.dev.vars', values: {} };
}

function checkKeyCache(checking: Checking, namespaces: NonNullable<WorkerConfig['kv_namespaces']>): void {
  const at = checking.at('kv_namespaces');
  const i = namespaces.findIndex((namespace) => namespace.binding === GATEWAY_KV_BINDING);
  if (i < 0) {
    checking.warn(
      at,
      `binds no ${GATEWAY_KV_BINDING}: the Worker works without it, but every data centre fetches each JWKS itself`,
    );
  } else if (/^0+$/.test(namespaces[i]?.id ?? '')) {
    checking.warn(
      `${at}[${i}].id`,
      `is a placeholder: fine for wrangler dev, but before deploying create the namespace (npx wrangler kv namespace create ${GATEWAY_KV_BINDING}) and put its id here`,
    );
  }
}

/**
 * An optional Durable Object: bound under the name the Worker looks for, to the class it exports,
 * with a migration that creates that class (wrangler refuses to deploy a new class without one).
 * Whether it is bound.
 */
function checkDurableObject(
  checking: Checking,
  object: WorkerStartUp['DURABLE_OBJECTS'][number],
  bindings: NonNullable<NonNullable<WorkerConfig['durable_objects']>['bindings']>,
  migrations: NonNullable<WorkerConfig['migrations']>,
): boolean {
  const at = checking.at('durable_objects.bindings');
  bindings.forEach((binding, i) => {
    if (binding.class_name === object.className && binding.name !== object.binding && !binding.script_name) {
      checking.warn(
        `${at}[${i}].name`,
        `is ${binding.name}: the Worker looks for ${object.role} only under ${object.binding}, so this binding is unused`,
      );
    }
  });
  const i = bindings.findIndex((binding) => binding.name === object.binding);
  const binding = bindings[i];
  if (!binding) return false;
  if (binding.script_name) return true;
  if (binding.class_name !== object.className) {
    checking.error(
      `${at}[${i}].class_name`,
      `is ${binding.class_name}: ${object.binding} must bind ${object.className}`,
    );
    return true;
  }
  const created = migrations.some(
    (migration) =>
      migration.new_sqlite_classes?.includes(object.className) ||
      migration.new_classes?.includes(object.className) ||
      migration.renamed_classes?.some((renamed) => renamed.to === object.className),
  );
  if (!created) {
    checking.error(
      checking.at('migrations', true),
      `creates no ${object.className}: add a [[migrations]] entry with new_sqlite_classes = ["${object.className}"]`,
    );
  }
  return true;
}

/** `today` is YYYY-MM-DD in UTC; wrangler has checked the date's format. */
function checkCompatibilityDate(checking: Checking, date: string | undefined, today: string): void {
  const at = checking.at('compatibility_date', true);
  if (date === undefined) checking.error(at, 'is required: a Worker cannot be deployed without one');
  else if (date > today) checking.error(at, `is ${date}, after today (${today}): a future date cannot be deployed`);
}

/** wrangler has resolved `main` against the file's directory. */
function checkEntryModule(checking: Checking, main: string | undefined): void {
  const at = checking.at('main', true);
  if (main === undefined) checking.error(at, "is required: the Worker's entry module");
  else if (!existsSync(main)) checking.error(at, `names ${relative(process.cwd(), main)}, which does not exist`);
}

/** The config as `wrangler deploy` resolves it, with the raw `[env.NAME]` table; or why it cannot be read. */
export function readWorkerConfig(
  path: string,
  env: string | undefined,
  file: string,
): { config: WorkerConfig; envSection: Readonly<Record<string, unknown>> | undefined } | Problem[] {
  try {
    // `env: ''` rather than undefined: wrangler would otherwise take CLOUDFLARE_ENV, behind the
    // caller's back. hideWarnings: printing them makes wrangler ask npm for a newer version.
    const config: WorkerConfig = unstable_readConfig({ config: path, env: env ?? '' }, { hideWarnings: true });
    const envSection =
      env === undefined ? undefined : experimental_readRawConfig({ config: path }).rawConfig.env?.[env];
    return { config, envSection };
  } catch (failure) {
    if (!isWranglerUserError(failure)) throw failure;
    const { text, location } = failure as { text?: string; location?: { line: number; column: number } };
    if (text !== undefined) {
      // A syntax error: wrangler counts columns from 0.
      const where = location === undefined ? file : `${file}:${location.line}:${location.column + 1}`;
      return [{ severity: 'error', path: where, problem: text }];
    }
    return diagnostics(failure.message).map(({ section, text: problem }) => ({
      severity: 'error',
      path: section ?? file,
      problem,
    }));
  }
}

/** wrangler's own errors (its UserError, and the ParseError built on it) are the file's problems; anything else is a bug. */
function isWranglerUserError(failure: unknown): failure is Error {
  for (let proto = Object.getPrototypeOf(failure); proto; proto = Object.getPrototypeOf(proto)) {
    if (proto.constructor?.name === 'UserError') return true;
  }
  return false;
}

/**
 * wrangler's rendered validation errors, one per item: a "Processing … configuration:" line,
 * then `- ` items (continued on the lines up to a blank one), an environment's nested under its
 * `- "env.NAME" environment configuration` heading.
 */
function diagnostics(message: string): { section: string | undefined; text: string }[] {
  const items: { indent: number; text: string; open: boolean }[] = [];
  for (const line of stripVTControlCharacters(message).split('\n').slice(1)) {
    const text = line.trim();
    const last = items.at(-1);
    if (text.startsWith('- ')) items.push({ indent: line.indexOf('-'), text: text.slice(2), open: true });
    else if (text === '' || text.startsWith('```')) {
      if (last) last.open = false;
    } else if (last?.open) last.text += ` ${text}`;
  }
  const found: { section: string | undefined; text: string }[] = [];
  let section: { indent: number; name: string } | undefined;
  items.forEach((item, i) => {
    if (section && item.indent <= section.indent) section = undefined;
    const heading = /^"(env\.[^"]+)" environment configuration$/.exec(item.text);
    if (heading?.[1] && (items[i + 1]?.indent ?? 0) > item.indent) section = { indent: item.indent, name: heading[1] };
    else found.push({ section: section?.name, text: item.text });
  });
  return found.length > 0 ? found : [{ section: undefined, text: stripVTControlCharacters(message) }];
}

/** `sign_headers.secret` as written, so that a secret in clear text is caught even when the policy has other problems. */
function signingSecretOf(policy: unknown): string | undefined {
  let value = policy;
  if (typeof policy === 'string') {
    try {
      value = JSON.parse(policy);
    } catch {
      return undefined;
    }
  }
  const secret = (value as { sign_headers?: { secret?: unknown } } | null | undefined)?.sign_headers?.secret;
  return typeof secret === 'string' ? secret : undefined;
}

/** Building the gateway never fetches; this makes sure of it. */
const offline: typeof fetch = () => Promise.reject(new Error('check-config makes no requests'));

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The lines the command prints: each problem, the tally, and what was checked when nothing failed. */
export function formatReport({ problems, checked }: ConfigReport): string[] {
  const errors = problems.filter((problem) => problem.severity === 'error').length;
  const lines = problems.map(({ severity, path, problem }) => `${severity}: ${path}: ${problem}`);
  if (problems.length > 0) lines.push(`${count(errors, 'error')}, ${count(problems.length - errors, 'warning')}`);
  if (errors === 0) lines.push(`ok: ${checked}`);
  return lines;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    options: { env: { type: 'string', short: 'e' } },
    allowPositionals: true,
  });
  const path = positionals.length > 1 ? undefined : (positionals[0] ?? findWorkerConfig());
  if (path === undefined) {
    console.error(
      positionals.length > 1
        ? 'usage: check-config [wrangler.toml|wrangler.jsonc|wrangler.json] [--env NAME]'
        : `error: no ${CONFIG_FILES.join(', ')} in ${process.cwd()}`,
    );
    process.exit(1);
  }
  const report = checkWorkerConfig(path, { env: values.env ?? (process.env.CLOUDFLARE_ENV || undefined) });
  for (const line of formatReport(report)) console.log(line);
  process.exitCode = report.problems.some((problem) => problem.severity === 'error') ? 1 : 0;
}
