import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { checkWorkerConfig, findWorkerConfig, formatReport } from './check-config.ts';

const SCRIPT = fileURLToPath(new URL('./check-config.ts', import.meta.url));
const REPO_CONFIG = fileURLToPath(new URL('../wrangler.toml', import.meta.url));
/** As the package.json script runs it: the Worker's modules use TypeScript that needs transforming. */
const NODE_FLAGS: string[] = [];
const NOW = Date.parse('2026-12-01T12:00:00Z');

const root = mkdtempSync(join(tmpdir(), 'check-config-'));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** A fresh directory holding these files and the entry module `src/index.ts`. */
function project(files: Record<string, string>): string {
  const dir = join(root, String(dirs++));
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'src/index.ts'), 'export default {};\n');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function configFile(name: string, text: string): string {
  return join(project({ [name]: text }), name);
}

function problems(path: string, env?: string): string[] {
  return formatReport(checkWorkerConfig(path, { env, now: () => NOW })).filter((line) =>
    /^(error|warning): /.test(line),
  );
}

const shown = (path: string) => relative(process.cwd(), path);

const TOP = `
name = "api-gateway"
main = "src/index.ts"
compatibility_date = "2026-08-01"
`;
const KV = `
[[kv_namespaces]]
binding = "JWKS_CACHE"
id = "0f2ac74b498b48028cb68387c421e279"
`;

const FLAT = `${TOP}${KV}
[vars]
ISSUER = "https://id.example.com/"
AUDIENCE = "https://api.example.com"
ORIGIN = "https://origin.example.com"
PUBLIC_PATHS = "/health"
`;

const POLICY = `${TOP}${KV}
[[services]]
binding = "REPORTS"
service = "reports-worker"

[vars.POLICY]
origin = "https://origin.example.com"
sign_headers = { secret = "IDENTITY_SIGNING_KEY" }

[vars.POLICY.issuers.corp]
issuer = "https://id.example.com/"
audiences = ["https://api.example.com"]

[[vars.POLICY.routes]]
path = "/health"
access = "public"

[[vars.POLICY.routes]]
path = "/reports/*"
access = "required"
origin_service = "REPORTS"

[[vars.POLICY.routes]]
path = "/*"
access = "required"
scopes = { any = ["read", "admin"] }
`;

const JSONC = `// The gateway, configured as JSONC.
{
  "name": "api-gateway",
  "main": "src/index.ts",
  "compatibility_date": "2026-08-01", // not after today
  "kv_namespaces": [{ "binding": "JWKS_CACHE", "id": "0f2ac74b498b48028cb68387c421e279" }],
  "vars": {
    /* POLICY as an object, with its schema for editors */
    "POLICY": {
      "$schema": "./policy.schema.json",
      "origin": "https://origin.example.com",
      "issuers": {
        "corp": { "issuer": "https://id.example.com/", "audiences": ["https://api.example.com"] },
        "partners": { "issuer": "https://login.partner.example/", "client_ids": ["partner-app"] },
      },
      "routes": [
        { "path": "/health", "access": "public" },
        { "path": "/partners/*", "access": "required", "issuers": ["partners"] },
        { "path": "/*", "access": "required", "issuers": ["corp"], "scopes": { "any": ["read", "admin"] } },
      ],
    },
  },
}
`;

/** POLICY beside ISSUER, a bad scope in a route, the signing secret in clear text, a future date. */
const BAD = `
name = "api-gateway"
main = "src/index.ts"
compatibility_date = "2027-03-01"
${KV}
[vars]
ISSUER = "https://id.example.com/"
IDENTITY_SIGNING_KEY = "an-identity-signing-key-of-at-least-32-characters"

[vars.POLICY]
origin = "https://origin.example.com"
sign_headers = { secret = "IDENTITY_SIGNING_KEY" }

[vars.POLICY.issuers.corp]
issuer = "https://id.example.com/"
audiences = ["https://api.example.com"]

[[vars.POLICY.routes]]
path = "/health"
access = "public"

[[vars.POLICY.routes]]
path = "/*"
access = "required"
scopes = { any = ["read write"] }
`;

const STAGED = `${FLAT}
[env.staging]
compatibility_date = "2027-01-15"

[env.staging.vars]
ISSUER = "http://id.staging.example.com/"
AUDIENCE = "https://api.staging.example.com"
ORIGIN = "https://origin.staging.example.com"
`;

/** FLAT with an identity assertion keyed by ASSERTION_KEYS and a route limited by PER_CALLER. */
const ASSERTING = `${TOP}${KV}
[[ratelimits]]
name = "PER_CALLER"
namespace_id = "1001"
simple = { limit = 100, period = 60 }

[vars.POLICY]
origin = "https://origin.example.com"
identity_assertion = { signing_key = "ASSERTION_KEYS", issuer = "https://edge.example.com" }

[vars.POLICY.issuers.corp]
issuer = "https://id.example.com/"
audiences = ["https://api.example.com"]

[[vars.POLICY.routes]]
path = "/*"
access = "required"
rate_limit = { binding = "PER_CALLER", period_seconds = 60, key = "sub" }
`;

async function privateJwk(alg: 'ES256' | 'Ed25519' | 'RS256', kid?: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), ...(kid === undefined ? {} : { kid }) };
}

/** `.dev.vars` holding ASSERTION_KEYS as wrangler dev reads it. */
const devVars = (...keys: JWK[]) => `ASSERTION_KEYS='${JSON.stringify({ keys })}'\n`;

describe('check-config', () => {
  test("the repo's wrangler.toml fails on the ISSUER it leaves unset and warns about its placeholder KV id", () => {
    const report = checkWorkerConfig(REPO_CONFIG);
    const errors = report.problems.filter((problem) => problem.severity === 'error');
    assert.deepEqual(errors, [{ severity: 'error', path: 'vars.ISSUER', problem: 'is required' }]);
    assert.ok(
      report.problems.some(
        ({ severity, path, problem }) =>
          severity === 'warning' && path === 'kv_namespaces[0].id' && problem.startsWith('is a placeholder'),
      ),
      JSON.stringify(report.problems),
    );
  });

  test('a flat config with its bindings is clean, and says what it checked', () => {
    const file = configFile('wrangler.toml', FLAT);
    assert.deepEqual(formatReport(checkWorkerConfig(file, { now: () => NOW })), [
      `ok: ${shown(file)}: flat variables (1 issuer, 2 routes), gateway start-up, bindings JWKS_CACHE, compatibility_date 2026-08-01, main ${shown(join(file, '../src/index.ts'))}`,
    ]);
  });

  test('a POLICY config in TOML is clean but for the reminder to put its signing secret', () => {
    const file = configFile('wrangler.toml', POLICY);
    const report = checkWorkerConfig(file, { now: () => NOW });
    assert.deepEqual(problems(file), [
      'warning: vars.POLICY.sign_headers.secret: names IDENTITY_SIGNING_KEY, a secret the file cannot hold: set it (at least 32 characters) with npx wrangler secret put IDENTITY_SIGNING_KEY',
    ]);
    assert.match(
      report.checked,
      /: POLICY \(1 issuer, 3 routes\), gateway start-up, bindings JWKS_CACHE, REPORTS, secret IDENTITY_SIGNING_KEY,/,
    );
  });

  test('an HMAC secret is named with the bytes its algorithms need, and refused in clear text', () => {
    const hmac = `${FLAT}ALGORITHMS = "RS256,HS256,HS384"\nHMAC_SECRET = "SUPABASE_JWT_SECRET"\n`;
    assert.deepEqual(problems(configFile('wrangler.toml', hmac)), [
      'warning: vars.HMAC_SECRET: names SUPABASE_JWT_SECRET, a secret the file cannot hold: set it (at least 32 bytes for HS256, 48 bytes for HS384) with npx wrangler secret put SUPABASE_JWT_SECRET',
    ]);
    const inClear = `${hmac}SUPABASE_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters"\n`;
    assert.ok(
      problems(configFile('wrangler.toml', inClear)).includes(
        'error: vars.SUPABASE_JWT_SECRET: holds the HMAC secret that vars.HMAC_SECRET names, in clear text: remove it and run npx wrangler secret put SUPABASE_JWT_SECRET',
      ),
    );
  });

  test('the introspection client secret is named, and refused in clear text', () => {
    const introspecting = `${FLAT}INTROSPECTION_CLIENT_ID = "edge"\nINTROSPECTION_CLIENT_SECRET = "IDP_INTROSPECTION_SECRET"\n`;
    assert.deepEqual(problems(configFile('wrangler.toml', introspecting)), [
      'warning: vars.INTROSPECTION_CLIENT_SECRET: names IDP_INTROSPECTION_SECRET, a secret the file cannot hold: set it with npx wrangler secret put IDP_INTROSPECTION_SECRET',
    ]);
    const inClear = `${introspecting}IDP_INTROSPECTION_SECRET = "s3cr3t"\n`;
    assert.ok(
      problems(configFile('wrangler.toml', inClear)).includes(
        'error: vars.IDP_INTROSPECTION_SECRET: holds the introspection client secret that vars.INTROSPECTION_CLIENT_SECRET names, in clear text: remove it and run npx wrangler secret put IDP_INTROSPECTION_SECRET',
      ),
    );
  });

  test('a secret the Worker reads under its own name is refused in clear text, not taken for a misspelt variable', () => {
    const inClear = `${FLAT}DPOP_NONCE_SECRET = "a-nonce-key-of-at-least-thirty-two-characters"\n`;
    const found = problems(configFile('wrangler.toml', inClear));
    assert.ok(
      found.some((line) =>
        line.startsWith('error: vars.DPOP_NONCE_SECRET: is a Worker secret (the key of the server DPoP nonces'),
      ),
      found.join('\n'),
    );
    assert.ok(
      found.some((line) => line.endsWith('in clear text: remove it and run npx wrangler secret put DPOP_NONCE_SECRET')),
    );
    assert.equal(
      found.some((line) => line.includes('misspelt')),
      false,
    );
  });

  test('a route forwarding through a service binding the file does not bind is an error', () => {
    const file = configFile('wrangler.toml', POLICY.replace('binding = "REPORTS"', 'binding = "REPORT"'));
    assert.deepEqual(
      problems(file).filter((line) => line.startsWith('error')),
      [
        'error: services: binds no REPORTS, which vars.POLICY.routes[1].origin_service names: every request forwarded through it would answer 500',
      ],
    );
  });

  test('flat variables without ORIGIN start only with an ORIGIN_SERVICE service binding', () => {
    const unbound = configFile('wrangler.toml', FLAT.replace(/^ORIGIN = .*$/m, ''));
    assert.deepEqual(problems(unbound), ['error: vars.ORIGIN: is required']);
    const bound = configFile(
      'wrangler.toml',
      `${FLAT.replace(/^ORIGIN = .*$/m, '')}\n[[services]]\nbinding = "ORIGIN_SERVICE"\nservice = "origin"\n`,
    );
    assert.deepEqual(problems(bound), []);
  });

  test('a wrangler.jsonc with comments and trailing commas is read as wrangler reads it', () => {
    const file = configFile('wrangler.jsonc', JSONC);
    const report = checkWorkerConfig(file, { now: () => NOW });
    assert.deepEqual(report.problems, []);
    assert.match(report.checked, /: POLICY \(2 issuers, 3 routes\), gateway start-up, /);
  });

  test('a bad file reports every problem, each at its path', () => {
    const file = configFile('wrangler.toml', BAD);
    assert.deepEqual(formatReport(checkWorkerConfig(file, { now: () => NOW })), [
      'error: vars.POLICY: cannot be set together with ISSUER: the policy replaces them',
      'error: vars.POLICY.routes[1].scopes.any[0]: must be a scope token (RFC 6749 §3.3)',
      'error: vars.IDENTITY_SIGNING_KEY: holds the signing secret that vars.POLICY.sign_headers.secret names, in clear text: a signing secret must not live in wrangler.toml; remove it and run npx wrangler secret put IDENTITY_SIGNING_KEY',
      'error: compatibility_date: is 2027-03-01, after today (2026-12-01): a future date cannot be deployed',
      '4 errors, 0 warnings',
    ]);
  });

  test('--env staging applies [env.staging] and names the tables the values came from', () => {
    const file = configFile('wrangler.toml', STAGED);
    assert.deepEqual(problems(file), []);
    assert.deepEqual(problems(file, 'staging'), [
      'error: env.staging.vars.ISSUER: must be an https URL (http is allowed only on loopback hosts)',
      'warning: env.staging.kv_namespaces: binds no JWKS_CACHE: the Worker works without it, but every data centre fetches each JWKS itself',
      'error: env.staging.compatibility_date: is 2027-01-15, after today (2026-12-01): a future date cannot be deployed',
    ]);
  });

  test('without --env the top level is checked, whatever CLOUDFLARE_ENV says', () => {
    const file = configFile('wrangler.toml', STAGED);
    process.env.CLOUDFLARE_ENV = 'staging';
    try {
      assert.deepEqual(problems(file), []);
    } finally {
      delete process.env.CLOUDFLARE_ENV;
    }
  });

  test('an environment the file does not define is an error', () => {
    const file = configFile('wrangler.toml', STAGED);
    const [first, ...rest] = problems(file, 'production');
    assert.match(
      first ?? '',
      /^error: .*wrangler\.toml: No environment found in configuration with name "production"\./,
    );
    assert.deepEqual(rest, []);
  });

  test('variables the Worker would choke on or never read are named', () => {
    const file = configFile(
      'wrangler.toml',
      FLAT.replace('[vars]', '[vars]\nCLOCK_SKEW_SECONDS = 30\nREQUIRED_SCOPE = "read"\nLOG_LEVEL = "verbose"'),
    );
    assert.deepEqual(problems(file), [
      'error: vars.CLOCK_SKEW_SECONDS: must be a string ("30", in quotes), not a number',
      'warning: vars.REQUIRED_SCOPE: is not a variable the Worker reads (misspelt?)',
      'error: vars.LOG_LEVEL: must be one of error, warn, info, debug',
    ]);
  });

  test("a POLICY without any origin fails the gateway's start-up check", () => {
    const file = configFile('wrangler.toml', POLICY.replace('origin = "https://origin.example.com"\n', ''));
    assert.deepEqual(
      problems(file).filter((line) => line.startsWith('error')),
      ['error: vars.ORIGIN: is required'],
    );
  });

  test('a missing entry module, a missing date and an all-zero KV id', () => {
    const file = configFile(
      'wrangler.toml',
      FLAT.replace('main = "src/index.ts"', 'main = "src/worker.ts"')
        .replace(/^compatibility_date = .*$/m, '')
        .replace(/^id = .*$/m, 'id = "00000000000000000000000000000000"'),
    );
    assert.deepEqual(problems(file), [
      'warning: kv_namespaces[0].id: is a placeholder: fine for wrangler dev, but before deploying create the namespace (npx wrangler kv namespace create JWKS_CACHE) and put its id here',
      'error: compatibility_date: is required: a Worker cannot be deployed without one',
      `error: main: names ${shown(join(file, '../src/worker.ts'))}, which does not exist`,
    ]);
  });

  test('the Durable Objects: each bound under its name to its class, with a migration that creates it', () => {
    const bound = (name: string, className: string, migration: string) =>
      `${FLAT}\n[[durable_objects.bindings]]\nname = "${name}"\nclass_name = "${className}"\n${migration}`;
    const migration = '\n[[migrations]]\ntag = "v1"\nnew_sqlite_classes = ["JwksCoordinator"]\n';
    const clean = configFile('wrangler.toml', bound('JWKS_COORDINATOR', 'JwksCoordinator', migration));
    assert.deepEqual(problems(clean), []);
    assert.match(checkWorkerConfig(clean, { now: () => NOW }).checked, /bindings JWKS_CACHE, JWKS_COORDINATOR,/);
    assert.deepEqual(problems(configFile('wrangler.toml', bound('JWKS_COORDINATOR', 'JwksCoordinator', ''))), [
      'error: migrations: creates no JwksCoordinator: add a [[migrations]] entry with new_sqlite_classes = ["JwksCoordinator"]',
    ]);
    assert.deepEqual(problems(configFile('wrangler.toml', bound('JWKS_COORDINATOR', 'Other', migration))), [
      'error: durable_objects.bindings[0].class_name: is Other: JWKS_COORDINATOR must bind JwksCoordinator',
    ]);
    const replay = '\n[[durable_objects.bindings]]\nname = "DPOP_REPLAY"\nclass_name = "DpopReplay"\n';
    const both = configFile('wrangler.toml', bound('JWKS_COORDINATOR', 'JwksCoordinator', `${migration}${replay}`));
    assert.deepEqual(problems(both), [
      'error: migrations: creates no DpopReplay: add a [[migrations]] entry with new_sqlite_classes = ["DpopReplay"]',
    ]);
    assert.match(
      checkWorkerConfig(both, { now: () => NOW }).checked,
      /bindings JWKS_CACHE, JWKS_COORDINATOR, DPOP_REPLAY,/,
    );
    assert.deepEqual(problems(configFile('wrangler.toml', bound('KEYS', 'JwksCoordinator', migration))), [
      'warning: durable_objects.bindings[0].name: is KEYS: the Worker looks for the JWKS coordinator only under JWKS_COORDINATOR, so this binding is unused',
    ]);
  });

  test('a syntax error is named by line and column', () => {
    const file = configFile('wrangler.json', '{\n  "name": "api-gateway",\n  "main": ,\n}\n');
    assert.deepEqual(problems(file), [`error: ${shown(file)}:3:11: ValueExpected`]);
  });

  test('without a path, wrangler.toml comes before wrangler.jsonc and wrangler.json', () => {
    const both = project({ 'wrangler.json': '{}', 'wrangler.toml': '', 'wrangler.jsonc': '{}' });
    assert.equal(findWorkerConfig(both), join(both, 'wrangler.toml'));
    const jsonc = project({ 'wrangler.json': '{}', 'wrangler.jsonc': '{}' });
    assert.equal(findWorkerConfig(jsonc), join(jsonc, 'wrangler.jsonc'));
    assert.equal(findWorkerConfig(project({})), undefined);
  });

  test('the command exits 1 on an error, 0 on warnings only, and passes --env on', () => {
    const run = (cwd: string, ...args: string[]) =>
      spawnSync(process.execPath, [...NODE_FLAGS, SCRIPT, ...args], { cwd, encoding: 'utf8' });

    const bad = run(project({ 'wrangler.toml': BAD.replace('2027-03-01', '2026-08-01') }));
    assert.equal(bad.status, 1, bad.stderr);
    assert.deepEqual(bad.stdout.trim().split('\n').at(-1), '3 errors, 0 warnings');

    const warned = run(project({ 'wrangler.jsonc': JSONC.replace('"kv_namespaces"', '"kv_unused"') }));
    assert.equal(warned.status, 0, warned.stderr);
    assert.deepEqual(warned.stdout.trim().split('\n'), [
      'warning: kv_namespaces: binds no JWKS_CACHE: the Worker works without it, but every data centre fetches each JWKS itself',
      '0 errors, 1 warning',
      'ok: wrangler.jsonc: POLICY (2 issuers, 3 routes), gateway start-up, bindings JWKS_CACHE, compatibility_date 2026-08-01, main src/index.ts',
    ]);

    const staged = project({ 'wrangler.toml': STAGED.replace('2027-01-15', '2026-08-01') });
    assert.equal(run(staged).status, 0);
    const failed = run(staged, 'wrangler.toml', '--env', 'staging');
    assert.equal(failed.status, 1);
    assert.match(failed.stdout, /^error: env\.staging\.vars\.ISSUER: must be an https URL/m);
  });

  test('a rate_limit binding must be declared in [[ratelimits]], with the period the route repeats', async () => {
    const dir = project({ 'wrangler.toml': ASSERTING, '.dev.vars': devVars(await privateJwk('ES256', 'edge-1')) });
    const file = join(dir, 'wrangler.toml');
    assert.deepEqual(problems(file), []);
    assert.match(checkWorkerConfig(file, { now: () => NOW }).checked, /bindings JWKS_CACHE, PER_CALLER,/);

    const undeclared = configFile('wrangler.toml', ASSERTING.replace('name = "PER_CALLER"', 'name = "PER_IP"'));
    assert.ok(
      problems(undeclared).includes(
        'error: ratelimits: declares no PER_CALLER, which vars.POLICY.routes[0].rate_limit.binding names: every request on that route would answer 500',
      ),
    );
    const otherPeriod = configFile('wrangler.toml', ASSERTING.replace('period = 60', 'period = 10'));
    assert.ok(
      problems(otherPeriod).includes(
        "error: vars.POLICY.routes[0].rate_limit.period_seconds: is 60, but PER_CALLER counts over 10 s (ratelimits[0].simple.period): a refusal's Retry-After would be wrong",
      ),
    );
  });

  test('the identity assertion secret: its key types and kids from .dev.vars, a reminder without it, never in clear text', async () => {
    const [es256, ed25519] = [await privateJwk('ES256', 'edge-1'), await privateJwk('Ed25519', 'edge-2')];
    const good = project({ 'wrangler.toml': ASSERTING, '.dev.vars': devVars(es256, ed25519) });
    const report = checkWorkerConfig(join(good, 'wrangler.toml'), { now: () => NOW });
    assert.deepEqual(report.problems, []);
    assert.match(report.checked, /, secret ASSERTION_KEYS in \.dev\.vars \(ES256 edge-1, EdDSA edge-2\),/);

    const cases: [JWK[], string][] = [
      [[await privateJwk('RS256', 'rsa')], 'key 1 is an RSA key: only EC P-256 (ES256) and Ed25519 (EdDSA) keys sign'],
      [[es256, await privateJwk('Ed25519')], 'key 2 has no kid'],
      [[{ ...es256, d: undefined }], 'key 1 is a public key: the secret holds the private keys'],
    ];
    for (const [keys, problem] of cases) {
      const dir = project({ 'wrangler.toml': ASSERTING, '.dev.vars': devVars(...keys) });
      const found = problems(join(dir, 'wrangler.toml'));
      assert.deepEqual(found, [
        `error: .dev.vars: ASSERTION_KEYS: must be a JWK Set of private EC P-256 or Ed25519 keys, each with a kid: ${problem}`,
      ]);
      for (const value of [es256.d, es256.x]) assert.ok(!found.join('').includes(value as string));
    }

    assert.deepEqual(problems(configFile('wrangler.toml', ASSERTING)), [
      'warning: vars.POLICY.identity_assertion.signing_key: names ASSERTION_KEYS, a secret the file cannot hold: set it (a JWK Set of private EC P-256 or Ed25519 keys, each with a kid; the first signs) with npx wrangler secret put ASSERTION_KEYS',
    ]);
    const inClear = configFile(
      'wrangler.toml',
      ASSERTING.replace(
        '[vars.POLICY]',
        `[vars]\nASSERTION_KEYS = '${JSON.stringify({ keys: [es256] })}'\n\n[vars.POLICY]`,
      ),
    );
    assert.ok(
      problems(inClear).includes(
        "error: vars.ASSERTION_KEYS: holds the identity assertion's private keys in clear text: remove it and run npx wrangler secret put ASSERTION_KEYS",
      ),
    );
  });
});
