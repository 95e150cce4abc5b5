/**
 * `npm start`: the whole demo on loopback, with no account and no network. Starts a dev issuer
 * and an echo origin, runs `wrangler dev` against them, and prints two ready curl lines.
 * `npm start -- --check` runs both curls itself and exits: 0 when they answer 200 and 401.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { DEMO_AUDIENCE, DEMO_STATE_FILE, DEMO_TENANT, mintDemoToken } from './demo.ts';
import { startDevIssuer } from './dev-issuer.ts';
import { startEchoOrigin } from './echo-origin.ts';
import { freePort, waitUntilAnswering } from './loopback.ts';

const check = process.argv.includes('--check');
const READY_TIMEOUT_MS = 60_000;

const issuer = await startDevIssuer(Number(process.env.DEMO_ISSUER_PORT ?? 0));
await issuer.addSigningTenant(DEMO_TENANT);
const origin = await startEchoOrigin(Number(process.env.DEMO_ORIGIN_PORT ?? 0));
const workerPort = Number(process.env.PORT ?? (await freePort()));
const issuerUrl = `${issuer.url}/t/${DEMO_TENANT}`;
const workerUrl = `http://127.0.0.1:${workerPort}`;

await mkdir('.wrangler', { recursive: true });
await writeFile(DEMO_STATE_FILE, JSON.stringify({ issuerUrl, workerUrl }));

const vars = {
  ISSUER: issuerUrl,
  AUDIENCE: DEMO_AUDIENCE,
  ORIGIN: origin.url,
  PUBLIC_PATHS: '/health',
};
const wrangler = spawn(
  'wrangler',
  [
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(workerPort),
    '--show-interactive-dev-session=false',
    '--log-level',
    check ? 'error' : 'info',
    ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
  ],
  {
    stdio: ['ignore', check ? 'ignore' : 'inherit', 'inherit'],
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  },
);

let stopping = false;
async function stop(code: number): Promise<never> {
  stopping = true;
  wrangler.kill('SIGTERM');
  await Promise.all([issuer.close(), origin.close()]);
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
wrangler.on('exit', (code) => {
  if (!stopping) {
    console.error(`wrangler dev exited (${code})`);
    void stop(1);
  }
});

try {
  await waitUntilAnswering(`${workerUrl}/health`, READY_TIMEOUT_MS);
} catch (error) {
  console.error(`wrangler dev did not start: ${(error as Error).message}`);
  await stop(1);
}
const token = await mintDemoToken(issuerUrl);
const withToken = `curl -i ${workerUrl}/hello -H 'Authorization: Bearer ${token}'`;
const withoutToken = `curl -i ${workerUrl}/hello`;

if (check) {
  const ok = await fetch(`${workerUrl}/hello`, { headers: { authorization: `Bearer ${token}` } });
  const refused = await fetch(`${workerUrl}/hello`);
  const body = (await ok.json()) as { headers: Record<string, string> };
  console.log(`with token: ${ok.status} (X-Auth-Subject: ${body.headers['x-auth-subject']})`);
  console.log(`without token: ${refused.status} (WWW-Authenticate: ${refused.headers.get('www-authenticate')})`);
  await stop(ok.status === 200 && refused.status === 401 && body.headers['x-auth-subject'] === 'demo-user' ? 0 : 1);
}

console.log(`
edge-verifier is running at ${workerUrl}
  issuer (dev):  ${issuerUrl}
  origin (echo): ${origin.url}

A request with a fresh token (200: the origin echoes what it received, with X-Auth-Subject):
  ${withToken}

A request without a token (401 with a Bearer challenge):
  ${withoutToken}

Mint another token with: npm run token     Stop with Ctrl-C.
`);
