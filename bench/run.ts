/**
 * `npm run bench`: every system side by side on loopback, interleaved over rounds, medians
 * reported. See bench/README.md for what is measured and why.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { startDevIssuer } from '../scripts/dev-issuer.ts';
import { runWrk, type TokenSource } from './load/wrk.ts';
import { cpuSeconds, peakRssMb } from './metrics/proc.ts';
import { type MicroResult, runMicro } from './micro.ts';
import { BENCH_DIR, BIN, RESULTS_DIR } from './paths.ts';
import { printTable, type Sample, summarize, writeResult } from './report.ts';
import { SETTINGS } from './settings.ts';
import { haproxyAvailable, startHaproxy } from './systems/haproxy.ts';
import { startNodePeer } from './systems/node-peers.ts';
import { firstJsonLine, type Running, startProcess, stopProcess } from './systems/process.ts';
import { buildWorkers, startWorkerd } from './systems/workerd.ts';
import { type Alg, loadOrCreateKeys, mintToken, publicPem, tokenPool } from './tokens.ts';

const started = Date.now();
const notes: string[] = [];

function ensureTool(command: string, debianPackage: string): boolean {
  try {
    execFileSync('which', [command], { stdio: 'ignore' });
    return true;
  } catch {
    try {
      execFileSync('apt-get', ['install', '-y', debianPackage], { stdio: 'ignore' });
      return true;
    } catch {
      notes.push(`${command} is not installed and apt-get could not install ${debianPackage}`);
      return false;
    }
  }
}

if (!ensureTool('wrk', 'wrk')) {
  console.error('wrk is required (Debian package wrk); install it and run again.');
  process.exit(1);
}
const withHaproxy = ensureTool('haproxy', 'haproxy') && haproxyAvailable();
if (!withHaproxy) notes.push('HAProxy (F) skipped: not available');

// The issuer counts JWKS fetches per system; the origin runs in its own process.
// A fixed port keeps the issuer URL, and so the minted token pool, the same from run to run.
const issuerServer = await startDevIssuer(Number(process.env.BENCH_ISSUER_PORT ?? 18_901));
const issuer = `${issuerServer.url}/t/bench`;
const jwksUri = `${issuer}/jwks`;
const originProcess = startProcess(`${BIN}/node`, [`${BENCH_DIR}/origin.ts`]);
const origin = `http://127.0.0.1:${(await firstJsonLine(originProcess)).port}`;

const keys = await loadOrCreateKeys();
await fetch(jwksUri, { method: 'PUT', body: JSON.stringify({ keys: [keys.RS256.publicJwk, keys.ES256.publicJwk] }) });
const pools: Record<Alg, string> = {
  RS256: await tokenPool(keys.RS256, issuer, SETTINGS.audience, SETTINGS.uniqueTokens),
  ES256: await tokenPool(keys.ES256, issuer, SETTINGS.audience, SETTINGS.uniqueTokens),
};
const repeated: Record<Alg, string> = {
  RS256: mintToken(keys.RS256, issuer, SETTINGS.audience, 'repeated'),
  ES256: mintToken(keys.ES256, issuer, SETTINGS.audience, 'repeated'),
};
const pemPaths: Record<Alg, string> = { RS256: `${RESULTS_DIR}/rs256.pem`, ES256: `${RESULTS_DIR}/es256.pem` };
for (const alg of ['RS256', 'ES256'] as const) await writeFile(pemPaths[alg], publicPem(keys[alg]));

const bundles = await buildWorkers();
const workerVars = { ISSUER: issuer, AUDIENCE: SETTINGS.audience, JWKS_URI: jwksUri, ORIGIN: origin };
const peerEnv = { ISSUER: issuer, AUDIENCE: SETTINGS.audience, JWKS_URI: jwksUri, ORIGIN: origin };

/** Ceilings get the same Authorization header as the systems they bound, unchecked, so both parse the same bytes. */
type Mode = 'token not checked' | 'repeated RS256' | 'unique RS256' | 'unique ES256';
interface Measurement {
  system: string;
  mode: Mode;
  ceiling: string;
  start(): Promise<Running>;
}

const tokenSource = (mode: Mode): TokenSource =>
  mode === 'token not checked' || mode === 'repeated RS256'
    ? { kind: 'repeated', token: repeated.RS256 }
    : { kind: 'unique', file: pools[mode === 'unique RS256' ? 'RS256' : 'ES256'] };
/** Warm-up never touches the unique pool, so no measured token has been seen before. */
const warmupSource = (mode: Mode): TokenSource => ({
  kind: 'repeated',
  token: repeated[mode.endsWith('ES256') ? 'ES256' : 'RS256'],
});

const originRunning: Running = { url: origin, pid: originProcess.pid as number, stop: async () => {} };
const measurements: Measurement[] = [
  { system: 'G origin direct', mode: 'token not checked', ceiling: '', start: async () => originRunning },
  {
    system: 'A workerd pass-through',
    mode: 'token not checked',
    ceiling: '',
    start: () => startWorkerd('a', bundles.passthrough, { ORIGIN: origin }),
  },
  ...(['repeated RS256', 'unique RS256', 'unique ES256'] as const).map((mode) => ({
    system: 'B edge-verifier',
    mode,
    ceiling: 'A workerd pass-through | token not checked',
    start: () => startWorkerd('b', bundles['edge-verifier'], workerVars),
  })),
  // hono/jwk fetches the JWKS and verifies on every request, so a repeated token costs it the same.
  {
    system: 'C hono/jwk',
    mode: 'unique RS256',
    ceiling: 'A workerd pass-through | token not checked',
    start: () => startWorkerd('c', bundles['hono-jwk'], workerVars),
  },
  {
    system: 'D0/E0 express proxy',
    mode: 'token not checked',
    ceiling: '',
    start: () => startNodePeer('none', peerEnv),
  },
  {
    system: 'D express-oauth-jwt',
    mode: 'unique RS256',
    ceiling: 'D0/E0 express proxy | token not checked',
    start: () => startNodePeer('express-oauth-jwt', peerEnv),
  },
  {
    system: 'E jwks-rsa + jsonwebtoken',
    mode: 'unique RS256',
    ceiling: 'D0/E0 express proxy | token not checked',
    start: () => startNodePeer('jwks-rsa', peerEnv),
  },
  ...(withHaproxy
    ? [
        {
          system: 'F0 haproxy',
          mode: 'token not checked' as Mode,
          ceiling: '',
          start: () => startHaproxy(false, origin, 'RS256', pemPaths.RS256, issuer, SETTINGS.audience),
        },
        {
          system: 'F haproxy jwt_verify (static PEM)',
          mode: 'unique RS256' as Mode,
          ceiling: 'F0 haproxy | token not checked',
          start: () => startHaproxy(true, origin, 'RS256', pemPaths.RS256, issuer, SETTINGS.audience),
        },
      ]
    : []),
];

/** BENCH_ONLY=regex narrows the run to matching systems, for quick comparisons while tuning. */
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
const selected = measurements.filter((m) => !only || only.test(`${m.system} | ${m.mode}`));

async function jwksFetchCount(): Promise<number> {
  return ((await (await fetch(`${issuer}/stats`)).json()) as { jwksFetches: number }).jwksFetches;
}

const samples: Sample[] = [];
try {
  for (let round = 1; round <= SETTINGS.rounds; round++) {
    for (const m of selected) {
      const running = await m.start();
      try {
        await runWrk(running.url, SETTINGS.warmupSeconds, warmupSource(m.mode));
        const fetchesBefore = await jwksFetchCount();
        const cpuBefore = cpuSeconds(running.pid);
        const load = await runWrk(running.url, SETTINGS.seconds, tokenSource(m.mode));
        const cpu = cpuSeconds(running.pid) - cpuBefore;
        const sample: Sample = {
          ...load,
          system: m.system,
          mode: m.mode,
          ceiling: m.ceiling,
          cpuUsPerRequest: (cpu * 1e6) / load.requests,
          peakRssMb: peakRssMb(running.pid),
          jwksFetches: (await jwksFetchCount()) - fetchesBefore,
        };
        samples.push(sample);
        console.log(
          `round ${round} ${m.system} | ${m.mode}: ${sample.rps.toFixed(0)} req/s, p99 ${sample.p99Ms.toFixed(2)} ms, ${sample.cpuUsPerRequest.toFixed(1)} CPU µs/req, ${sample.jwksFetches} JWKS fetches, ${sample.non2xx} non-2xx`,
        );
      } finally {
        await running.stop();
      }
    }
  }

  let micro: MicroResult | undefined;
  try {
    micro = await runMicro(keys, pools, { ISSUER: issuer, AUDIENCE: SETTINGS.audience, JWKS_URI: jwksUri });
  } catch (error) {
    notes.push(`micro-benchmark failed: ${String(error)}`);
  }
  const rows = summarize(samples);
  const ceilingA = rows.find((r) => r.key === 'A workerd pass-through | token not checked');
  const floorRps = ceilingA && micro ? 1 / (1 / ceilingA.rps + micro.rawVerifyUs.RS256 / 1e6) : undefined;
  console.log('');
  printTable(rows, micro, floorRps);
  for (const note of notes) console.log(`note: ${note}`);
  const path = await writeResult({
    date: new Date().toISOString(),
    settings: SETTINGS,
    machine: {
      cpus: (await import('node:os')).cpus().map((c) => c.model)[0],
      cores: (await import('node:os')).cpus().length,
    },
    rows,
    micro,
    floorRps,
    notes,
    samples,
  });
  console.log(`\nwrote ${path} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
} finally {
  await stopProcess(originProcess);
  await issuerServer.close();
}
