import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair } from 'jose';
import { ERROR_SPECS, STAGES } from '../src/errors.ts';
import { DEV_INTROSPECTION_CLIENT, type DevIssuer, startDevIssuer } from './dev-issuer.ts';
import { describeRun, explain, explainedConfig, stageMarks } from './explain.ts';

let issuer: DevIssuer;
let dir: string;
let config: string;
const TENANT = 'explain';

async function mint(params: Record<string, string> = {}): Promise<string> {
  const response = await fetch(`${issuer.url}/t/${TENANT}/token`, {
    method: 'POST',
    body: new URLSearchParams({ aud: 'explain-api', scope: 'read', ...params }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

/** A wrangler.toml for the dev issuer's tenant, with these variables besides. */
async function writeConfig(name: string, vars: readonly string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(
    path,
    [
      'name = "explain"',
      `main = "${new URL('../src/index.ts', import.meta.url).pathname}"`,
      'compatibility_date = "2026-08-01"',
      '[vars]',
      `ISSUER = "${issuer.url}/t/${TENANT}"`,
      'AUDIENCE = "explain-api"',
      'ORIGIN = "https://origin.explain.invalid"',
      ...vars,
    ].join('\n'),
  );
  return path;
}

before(async () => {
  issuer = await startDevIssuer();
  await issuer.addSigningTenant(TENANT);
  dir = await mkdtemp(join(tmpdir(), 'explain-'));
  config = await writeConfig('wrangler.toml', ['REQUIRED_SCOPES = "read"', 'PUBLIC_PATHS = "/health"']);
});

after(async () => {
  await issuer.close();
  await rm(dir, { recursive: true, force: true });
});

describe('npm run explain', () => {
  it('walks an accepted token through every step to the origin, without calling it', async () => {
    const token = await mint();
    const { lines, forwarded } = await explain({ token, path: '/items', config });
    const text = lines.join('\n');
    assert.equal(forwarded, true);
    assert.match(text, /^route: \*$/m);
    assert.match(text, /^issuer: default \(http:\/\/127\.0\.0\.1:\d+\/t\/explain\), chosen by the token's iss$/m);
    assert.match(text, /^fetched now: http:\/\/127\.0\.0\.1:\d+\/t\/explain\/jwks$/m);
    assert.match(text, /^key: kid [\w-]+, from issuer$/m);
    assert.match(text, /^signature \(.*\): ok$/m);
    assert.match(text, /^claims: exp \/ nbf \/ iat, .*: ok$/m);
    assert.match(text, /^scopes: all of \[read\], any of \[\]: ok$/m);
    assert.match(text, /^result: 200 forwarded$/m);
    assert.match(text, /^would be forwarded to https:\/\/origin\.explain\.invalid\/items \(not called\)$/m);
    // The signature is never printed.
    assert.equal(text.includes(token.split('.')[2] as string), false);
  });

  for (const [reason, make, expected] of [
    [
      'another audience',
      () => mint({ aud: 'someone-else' }),
      /^claims: aud, .*: FAILED$[\s\S]*^result: 401 wrong_audience, WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="audience mismatch"$/m,
    ],
    [
      'a missing scope',
      () => mint({ scope: 'write' }),
      /^scopes: all of \[read\], any of \[\]: FAILED$[\s\S]*^result: 403 insufficient_scope, WWW-Authenticate: .*scope="read"$/m,
    ],
    [
      'a changed payload',
      async () => {
        const [h, , s] = (await mint()).split('.');
        return `${h}.${Buffer.from(JSON.stringify({ iss: `${issuer.url}/t/${TENANT}`, sub: 'admin' })).toString('base64url')}.${s}`;
      },
      /^signature \(.*\): FAILED$[\s\S]*^result: 401 bad_signature/m,
    ],
  ] as const) {
    it(`refuses a token with ${reason}, saying at which step`, async () => {
      const { lines, forwarded } = await explain({ token: await make(), path: '/items', config });
      assert.equal(forwarded, false);
      assert.match(lines.join('\n'), expected);
      assert.equal(
        lines.some((line) => line.startsWith('would be forwarded')),
        false,
      );
      // No line says ok for a stage at or past the one that refused.
      const marks = stageMarks(lines.at(-1)?.split(' ')[2]?.replace(',', '') ?? '');
      const failed = STAGES.findIndex((stage) => marks[stage] === 'FAILED');
      assert.ok(failed >= 0);
      assert.match(lines.join('\n'), new RegExp(`^stages: .*${STAGES[failed]} FAILED`, 'm'));
    });
  }

  it('reports, for every refusal code, the stages before its own as passed and none at or after it', () => {
    for (const [code, spec] of Object.entries(ERROR_SPECS)) {
      const marks = stageMarks(code);
      const at = STAGES.indexOf(spec.stage);
      STAGES.forEach((stage, i) => {
        assert.equal(marks[stage], i < at ? 'ok' : i === at ? 'FAILED' : '–', `${code}: ${stage}`);
      });
    }
    // An outcome explain does not know claims nothing.
    assert.deepEqual(new Set(Object.values(stageMarks('something_new'))), new Set(['–']));
  });

  it('describes a request refused with any code, by any key source, without one check past its stage said ok', () => {
    // Every check explain can print, with the stage it belongs to.
    const stageOfLine: readonly (readonly [RegExp, (typeof STAGES)[number]])[] = [
      [/^signature /, 'signature'],
      [/^introspection \(RFC 7662\), active: ok/, 'signature'],
      [/^introspection .*its claims: ok$/, 'claims'],
      [/^typ one of /, 'claims'],
      [/^claims: /, 'claims'],
      [/^scopes: /, 'authorization'],
      [/^claim rules /, 'authorization'],
    ];
    const config = explainedConfig({
      ORIGIN: 'https://origin.explain.invalid',
      POLICY: {
        issuers: {
          corp: {
            issuer: 'https://id.explain.invalid/',
            audiences: ['explain-api'],
            token_types: ['at+jwt'],
            required_claims: ['tid'],
          },
        },
        routes: [
          {
            path: '/items',
            access: 'required',
            scopes: { any: ['read'] },
            claims: [{ claim: 'tid', equals: 't1' }],
          },
        ],
      },
    });
    for (const [code, spec] of Object.entries(ERROR_SPECS)) {
      for (const keyTier of ['memory', 'introspection']) {
        const { lines } = describeRun({
          token: 'e30.e30.c2ln',
          method: 'GET',
          path: '/items',
          source: 'test',
          config,
          decision: { outcome: code, route: '/items', issuer: 'corp', key_tier: keyTier },
          fetched: [],
          answers: [],
          originCalls: [],
          status: spec.status,
          challenge: null,
        });
        const failedAt = STAGES.indexOf(spec.stage);
        for (const line of lines.filter((text) => /: ok$|: ok;/.test(text))) {
          const stage = stageOfLine.find(([pattern]) => pattern.test(line))?.[1];
          assert.ok(stage === undefined || STAGES.indexOf(stage) < failedAt, `${code} (${keyTier}): ${line}`);
        }
        const stagesLine = lines.find((text) => text.startsWith('stages: ')) ?? '';
        assert.match(stagesLine, new RegExp(`${spec.stage} FAILED`), `${code}: ${stagesLine}`);
      }
    }
  });

  it('sends the token where the config reads it and names that source, and shows the path as matched', async () => {
    const cookieConfig = await writeConfig('cookie.toml', ['TOKEN_SOURCES = "cookie:CF_Authorization"']);
    const { lines, forwarded } = await explain({ token: await mint(), path: '/%69tems//1', config: cookieConfig });
    const text = lines.join('\n');
    assert.equal(forwarded, true);
    assert.match(text, /^path as matched and forwarded: \/items\/1$/m);
    assert.match(text, /^token read from: cookie:CF_Authorization$/m);
  });

  it('shows the introspection answer for an opaque token, with the client secret from the environment', async () => {
    const token = `opaque-${Date.now()}`;
    await fetch(`${issuer.url}/t/${TENANT}/introspectable`, {
      method: 'PUT',
      body: JSON.stringify({ token, members: { aud: 'explain-api', scope: 'read', sub: 'svc' } }),
    });
    const introspecting = await writeConfig('introspect.toml', [
      `INTROSPECTION_CLIENT_ID = "${DEV_INTROSPECTION_CLIENT.id}"`,
      'INTROSPECTION_CLIENT_SECRET = "EXPLAIN_INTROSPECTION_SECRET"',
    ]);
    process.env.EXPLAIN_INTROSPECTION_SECRET = DEV_INTROSPECTION_CLIENT.secret;
    try {
      const { lines, forwarded } = await explain({ token, path: '/items', config: introspecting });
      const text = lines.join('\n');
      assert.equal(forwarded, true);
      assert.match(text, /^introspection answer: \{"active":true,"aud":"explain-api","scope":"read","sub":"svc"\}$/m);
      assert.match(text, /^introspection \(RFC 7662\), active: ok; its claims: ok$/m);
      assert.equal(/^signature/m.test(text), false);
    } finally {
      delete process.env.EXPLAIN_INTROSPECTION_SECRET;
    }
  });

  it('forwards a public path without looking at the token', async () => {
    const publicPath = await explain({ token: await mint(), path: '/health', config });
    assert.equal(publicPath.forwarded, true);
    assert.match(publicPath.lines.join('\n'), /^route: \/health$[\s\S]*^result: 200 forwarded$/m);
  });

  it('runs a rate-limited route with the file’s binding admitting it, and signs the assertion with the key from the environment', async () => {
    const limited = join(dir, 'limited.toml');
    const tenant = `${issuer.url}/t/${TENANT}`;
    await writeFile(
      limited,
      [
        'name = "explain"',
        `main = "${new URL('../src/index.ts', import.meta.url).pathname}"`,
        'compatibility_date = "2026-08-01"',
        '[[ratelimits]]',
        'name = "PER_CALLER"',
        'namespace_id = "1001"',
        'simple = { limit = 100, period = 60 }',
        '[vars.POLICY]',
        'origin = "https://origin.explain.invalid"',
        'identity_assertion = { signing_key = "EXPLAIN_ASSERTION_KEYS", issuer = "https://edge.explain.invalid" }',
        `issuers = { dev = { issuer = "${tenant}", audiences = ["explain-api"] } }`,
        '[[vars.POLICY.routes]]',
        'path = "/*"',
        'access = "required"',
        'rate_limit = { binding = "PER_CALLER", period_seconds = 60, key = "sub" }',
      ].join('\n'),
    );
    const withoutKey = await explain({ token: await mint(), path: '/items', config: limited });
    assert.equal(withoutKey.forwarded, false);
    assert.match(withoutKey.lines.join('\n'), /^result: 500 config_invalid$/m);
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    process.env.EXPLAIN_ASSERTION_KEYS = JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: 'k' }] });
    try {
      const { forwarded, lines } = await explain({ token: await mint(), path: '/items', config: limited });
      assert.equal(forwarded, true, lines.join('\n'));
    } finally {
      delete process.env.EXPLAIN_ASSERTION_KEYS;
    }
  });
});
