/**
 * `npm run bench`: every system side by side on loopback, interleaved over rounds, medians
 * reported. See bench/README.md for what is measured and why.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { DEV_INTROSPECTION_CLIENT, startDevIssuer } from '../scripts/dev-issuer.ts';
import { runWrk, type TokenSource } from './load/wrk.ts';
import { acquireRunLock, otherBenchmarks } from './lock.ts';
import { cpuSeconds, machineTicks, peakRssMb, stealPercent } from './metrics/proc.ts';
import { type MicroResult, runMicro } from './micro.ts';
import { BENCH_DIR, BIN, RESULTS_DIR } from './paths.ts';
import { key, type Measurement, type Mode, plan } from './plan.ts';
import { type Es256Probe, printTable, type Sample, summarize, writeResult } from './report.ts';
import { SETTINGS } from './settings.ts';
import { haproxyAvailable } from './systems/haproxy.ts';
import { firstJsonLine, type Running, startProcess, stopAllOnSignal, stopProcess } from './systems/process.ts';
import { buildWorkers, workerdBinary } from './systems/workerd.ts';
import { ALGS, type Alg, createMinter, loadOrCreateKeys, tenTimesPools, tokenPool } from './tokens.ts';
import { ensureTool } from './tools.ts';
import { zipfCacheHitRatio } from './zipf.ts';

const started = Date.now();
const elapsedSeconds = () => (Date.now() - started) / 1000;
const notes: string[] = [];

/** Seconds a measurement costs beyond warm-up and load: start, stop, wrk reading the pool. */
const MEASUREMENT_OVERHEAD_SECONDS = 1;
/** Above this share of stolen CPU time a measurement is called noisy in the notes. */
const NOISY_STEAL_PERCENT = 10;
/** Kept free at the end of the budget for the micro-benchmark and the report. */
const MICRO_RESERVE_SECONDS = SETTINGS.quick ? 12 : 20;

const wrk = ensureTool('wrk', 'wrk');
if (!wrk.ok) {
  console.error(`${wrk.note}. wrk (Debian package wrk) drives every measurement; install it and run again.`);
  process.exit(1);
}
const haproxyTool = ensureTool('haproxy', 'haproxy');
const withHaproxy = haproxyTool.ok && haproxyAvailable();
if (!withHaproxy) notes.push(`F and F0 (HAProxy) skipped: ${haproxyTool.note ?? '`haproxy -v` failed'}`);

await mkdir(RESULTS_DIR, { recursive: true });
const lock = acquireRunLock();
const others = otherBenchmarks();
if (!lock.ok || others.length > 0) {
  if (lock.ok) lock.release();
  const pids = [...new Set([...(lock.ok ? [] : [lock.holder]), ...others])].filter(Boolean).join(', ');
  console.error(`another benchmark is running on this machine (pid ${pids}); two runs on the same cores distort both.`);
  process.exit(1);
}
const releaseLock = lock.release;

const workDir = await mkdtemp(`${tmpdir()}/edge-verifier-bench-`);
const issuerServer = await startDevIssuer();
const originProcess = startProcess(`${BIN}/node`, [`${BENCH_DIR}/origin.ts`]);

async function cleanup(): Promise<void> {
  await stopProcess(originProcess);
  await issuerServer.close();
  await rm(workDir, { recursive: true, force: true });
  releaseLock();
}
stopAllOnSignal(cleanup);

try {
  const jwksUri = `${issuerServer.url}/t/bench/jwks`;
  const statsUrl = `${issuerServer.url}/t/bench/stats`;
  const origin: Running = {
    url: `http://127.0.0.1:${(await firstJsonLine(originProcess)).port}`,
    pid: originProcess.pid as number,
    stop: async () => {},
  };
  const target = { issuer: SETTINGS.issuer, audience: SETTINGS.audience };

  const keys = await loadOrCreateKeys();
  await fetch(jwksUri, { method: 'PUT', body: JSON.stringify({ keys: ALGS.map((alg) => keys[alg].publicJwk) }) });
  const pools = {} as Record<Alg, string>;
  const repeated = {} as Record<Alg, string>;
  const pemFiles = {} as Record<Alg, string>;
  for (const alg of ALGS) {
    pools[alg] = await tokenPool(keys[alg], target, SETTINGS.uniqueTokens);
    repeated[alg] = await (await createMinter(keys[alg], target))('repeated');
    pemFiles[alg] = `${workDir}/${alg.toLowerCase()}.pem`;
    await writeFile(pemFiles[alg], keys[alg].publicSpki);
  }

  const measurements = plan({
    bundles: await buildWorkers(workDir),
    origin,
    ...target,
    jwksUri,
    pemFiles,
    publicJwks: { RS256: JSON.stringify(keys.RS256.publicJwk), ES256: JSON.stringify(keys.ES256.publicJwk) },
    workDir,
    withHaproxy,
    peersEs256: SETTINGS.peersEs256,
    introspection: {
      endpoint: `${issuerServer.url}/t/bench/introspect`,
      clientId: DEV_INTROSPECTION_CLIENT.id,
      secret: DEV_INTROSPECTION_CLIENT.secret,
    },
  });
  const tenTimes = await tenTimesPools(
    pools.RS256,
    SETTINGS.uniqueTokens,
    `${issuerServer.url}/t/bench`,
    target.audience,
  );
  /** BENCH_ONLY=regex narrows the run to matching `system | mode` keys, for quick comparisons while tuning. */
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
  const selected = measurements.filter((m) => !only || only.test(key(m)));
  console.log(
    `${selected.length} measurements × ${SETTINGS.rounds} rounds, ${SETTINGS.warmupSeconds} s warm-up + ${SETTINGS.seconds} s each, ` +
      `${SETTINGS.connections} connections, ${SETTINGS.threads} wrk threads (setup took ${elapsedSeconds().toFixed(0)} s)`,
  );

  const tokenSource = (mode: Mode): TokenSource => {
    if (mode === 'token not checked' || mode === 'repeated RS256') return { kind: 'repeated', token: repeated.RS256 };
    if (mode === 'zipf RS256') return { kind: 'zipf', file: pools.RS256, n: SETTINGS.zipf.tokens, s: SETTINGS.zipf.s };
    if (mode === 'opaque ×10') return { kind: 'unique', file: tenTimes.opaque };
    if (mode === 'RS256 ×10') return { kind: 'unique', file: tenTimes.jwt };
    return { kind: 'unique', file: pools[mode === 'unique RS256' ? 'RS256' : 'ES256'] };
  };
  /** Warm-up never touches the unique pool, so no measured token has been seen before. */
  const warmupSource = (mode: Mode): TokenSource => ({
    kind: 'repeated',
    token: repeated[mode.endsWith('ES256') ? 'ES256' : 'RS256'],
  });
  const issuerStats = async () =>
    (await (await fetch(statsUrl)).json()) as { jwksFetches: number; introspectionCalls: number };
  const jwksFetchCount = async () => (await issuerStats()).jwksFetches;

  async function probeEs256(m: Measurement, running: Running): Promise<Es256Probe> {
    const response = await fetch(`${running.url}/resource`, { headers: { authorization: `Bearer ${repeated.ES256}` } });
    const body = (await response.text()).slice(0, 120);
    return { system: m.system, status: response.status, ...(response.ok ? {} : { body }) };
  }

  const samples: Sample[] = [];
  const probes: Es256Probe[] = [];
  let skipped = 0;
  for (let round = 1; round <= SETTINGS.rounds; round++) {
    for (const m of selected) {
      const needed = SETTINGS.warmupSeconds + SETTINGS.seconds + MEASUREMENT_OVERHEAD_SECONDS;
      if (elapsedSeconds() + needed + MICRO_RESERVE_SECONDS > SETTINGS.budgetSeconds) {
        skipped++;
        continue;
      }
      const running = await m.start();
      try {
        if (m.probeEs256 && round === 1) probes.push(await probeEs256(m, running));
        await runWrk(running.url, SETTINGS.warmupSeconds, warmupSource(m.mode));
        const fetchesBefore = await jwksFetchCount();
        const introspectionsBefore = (await issuerStats()).introspectionCalls;
        const cpuBefore = cpuSeconds(running.pid);
        const ticksBefore = machineTicks();
        const load = await runWrk(running.url, SETTINGS.seconds, tokenSource(m.mode));
        const cpu = cpuSeconds(running.pid) - cpuBefore;
        const steal = stealPercent(ticksBefore, machineTicks());
        const sample: Sample = {
          ...load,
          system: m.system,
          mode: m.mode,
          ceiling: m.ceiling,
          round,
          cpuUsPerRequest: (cpu * 1e6) / load.requests,
          peakRssMb: peakRssMb(running.pid),
          jwksFetches: (await jwksFetchCount()) - fetchesBefore,
          introspectionCalls: (await issuerStats()).introspectionCalls - introspectionsBefore,
          stealPercent: steal,
        };
        samples.push(sample);
        console.log(
          `round ${round} ${key(m)}: ${sample.rps.toFixed(0)} req/s, p99 ${sample.p99Ms.toFixed(2)} ms, ` +
            `${sample.cpuUsPerRequest.toFixed(1)} CPU µs/req, ${sample.jwksFetches} JWKS fetches, ${sample.non2xx} non-2xx, ` +
            (sample.introspectionCalls > 0
              ? `${((sample.introspectionCalls * 1000) / sample.requests).toFixed(1)} introspection calls per 1,000 requests, `
              : '') +
            `steal ${steal.toFixed(1)} %`,
        );
      } finally {
        await running.stop();
      }
    }
  }
  const opaqueSamples = samples.filter((s) => s.mode === 'opaque ×10');
  if (opaqueSamples.length > 0) {
    const calls = opaqueSamples.reduce((sum, s) => sum + s.introspectionCalls, 0);
    const requests = opaqueSamples.reduce((sum, s) => sum + s.requests, 0);
    notes.push(
      `opaque ×10: ${((calls * 1000) / requests).toFixed(1)} introspection calls per 1,000 requests (each token used 10 times; the dev issuer's endpoint on loopback)`,
    );
  }
  const noisy = samples.filter((s) => s.stealPercent > NOISY_STEAL_PERCENT).length;
  if (noisy > 0) {
    notes.push(
      `the hypervisor took more than ${NOISY_STEAL_PERCENT} % of the CPU time in ${noisy} of ${samples.length} ` +
        'measurements (steal %): absolute figures from this run are noisy; see each round in latest.json',
    );
  }
  if (skipped > 0) {
    notes.push(
      `${skipped} of ${selected.length * SETTINGS.rounds} measurements skipped to stay within ${SETTINGS.budgetSeconds} s ` +
        '(see the rounds column); a first run also mints the token pool',
    );
  }

  let micro: MicroResult | undefined;
  try {
    micro = await runMicro(
      keys,
      pools,
      { ISSUER: SETTINGS.issuer, AUDIENCE: SETTINGS.audience, JWKS_URI: jwksUri },
      workDir,
    );
  } catch (error) {
    notes.push(`micro-benchmark failed: ${String(error)}`);
  }
  const rows = summarize(samples);
  const zipfRow = rows.find((r) => r.key === 'B edge-verifier | zipf RS256');
  const zipfHitRatio = zipfRow
    ? zipfCacheHitRatio(
        Math.round(zipfRow.rps * SETTINGS.seconds),
        (await readFile(pools.RS256, 'utf8')).split('\n', SETTINGS.zipf.tokens),
        SETTINGS.zipf.s,
      )
    : undefined;
  const ceilingA = rows.find((r) => r.key === 'A workerd pass-through | token not checked');
  const floorRps = ceilingA && micro ? 1 / (1 / ceilingA.rps + micro.rawVerifyUs.RS256 / 1e6) : undefined;
  console.log('');
  printTable(rows, micro, floorRps, probes, zipfHitRatio);
  for (const note of notes) console.log(`note: ${note}`);
  const path = await writeResult({
    date: new Date().toISOString(),
    settings: SETTINGS,
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, versions: versions() },
    rows,
    micro,
    floorRps,
    zipfHitRatio,
    es256Probes: probes,
    notes,
    samples,
  });
  console.log(`\nwrote ${path} in ${elapsedSeconds().toFixed(0)} s`);
} finally {
  await cleanup();
}

function versions(): Record<string, string> {
  // `wrk -v` exits with 1, so read the output whatever the status.
  const first = (command: string, args: string[]) => {
    const { stdout, stderr } = spawnSync(command, args, { encoding: 'utf8' });
    return `${stdout ?? ''}${stderr ?? ''}`.split('\n')[0]?.trim() || 'unavailable';
  };
  return {
    node: process.version,
    workerd: first(workerdBinary(), ['--version']),
    wrk: first('wrk', ['-v']),
    haproxy: withHaproxy ? first('haproxy', ['-v']) : 'not installed',
  };
}
