/**
 * `npm run bench:profile -- <system> <mode> [seconds]`: a V8 CPU profile of one Worker on bare
 * workerd while wrk drives it, to find where request time goes. Writes a `.cpuprofile` (open it
 * in Chrome DevTools) under bench/results/ and prints the functions with the most self time.
 * The sampling profiler slows the Worker down, so read shares, not absolute times.
 *
 *   system: passthrough | edge-verifier | hono-jwk     mode: repeated | unique
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { startDevIssuer } from '../scripts/dev-issuer.ts';
import { freePort } from '../scripts/loopback.ts';
import { runWrk, type TokenSource } from './load/wrk.ts';
import { BENCH_DIR, BIN, RESULTS_DIR } from './paths.ts';
import { SETTINGS } from './settings.ts';
import { firstJsonLine, startProcess, stopProcess } from './systems/process.ts';
import { buildWorkers, startWorkerd, type WorkerName } from './systems/workerd.ts';
import { ALGS, createMinter, loadOrCreateKeys, tokenPool } from './tokens.ts';

const SYSTEMS: readonly WorkerName[] = ['passthrough', 'edge-verifier', 'hono-jwk'];
const [systemArg = 'edge-verifier', modeArg = 'repeated', secondsArg = '5'] = process.argv.slice(2);
const system = systemArg as WorkerName;
if (!SYSTEMS.includes(system) || !['repeated', 'unique'].includes(modeArg)) {
  console.error(`usage: npm run bench:profile -- <${SYSTEMS.join('|')}> <repeated|unique> [seconds]`);
  process.exit(2);
}
const seconds = Number(secondsArg);
/** Sampling interval: finer than V8's 1 ms default, since a request costs a few hundred µs. */
const SAMPLING_INTERVAL_US = 100;
/** Functions listed by self time. */
const TOP = 25;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A minimal Chrome DevTools Protocol client over the inspector's WebSocket. */
async function connect(port: number): Promise<(method: string, params?: object) => Promise<unknown>> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const target = targets[0];
  if (!target) throw new Error('workerd listed no inspector target');
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', reject, { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, (result: unknown) => void>();
  socket.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  return (method, params = {}) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
}

/** Self time per function (name and source position), largest first. */
function selfTimes(profile: Profile): { name: string; ms: number; share: number }[] {
  const byNode = new Map<number, number>();
  profile.samples.forEach((nodeId, i) => {
    byNode.set(nodeId, (byNode.get(nodeId) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anonymous)'} ${url ? `${url.split('/').pop()}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  return [...byFunction].map(([name, us]) => ({ name, ms: us / 1000, share: us / total })).sort((a, b) => b.ms - a.ms);
}

const workDir = await mkdtemp(`${tmpdir()}/edge-verifier-profile-`);
const issuer = await startDevIssuer();
const originProcess = startProcess(`${BIN}/node`, [`${BENCH_DIR}/origin.ts`]);
try {
  const jwksUri = `${issuer.url}/t/bench/jwks`;
  const origin = `http://127.0.0.1:${(await firstJsonLine(originProcess)).port}`;
  const target = { issuer: SETTINGS.issuer, audience: SETTINGS.audience };
  const keys = await loadOrCreateKeys();
  await fetch(jwksUri, { method: 'PUT', body: JSON.stringify({ keys: ALGS.map((alg) => keys[alg].publicJwk) }) });
  const repeated: TokenSource = { kind: 'repeated', token: await (await createMinter(keys.RS256, target))('repeated') };
  const load: TokenSource =
    modeArg === 'repeated'
      ? repeated
      : { kind: 'unique', file: await tokenPool(keys.RS256, target, SETTINGS.uniqueTokens) };

  const bundles = await buildWorkers(workDir);
  const inspectorPort = await freePort();
  const vars = { ISSUER: SETTINGS.issuer, AUDIENCE: SETTINGS.audience, JWKS_URI: jwksUri, ORIGIN: origin };
  const running = await startWorkerd('profiled', bundles[system], vars, { inspectorPort });
  try {
    await runWrk(running.url, 1, repeated);
    const send = await connect(inspectorPort);
    await send('Profiler.enable');
    await send('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
    await send('Profiler.start');
    const result = await runWrk(running.url, seconds, load);
    const { profile } = (await send('Profiler.stop')) as { profile: Profile };
    const file = `${RESULTS_DIR}/${system}-${modeArg}.cpuprofile`;
    await writeFile(file, JSON.stringify(profile));
    console.log(`${system} | ${modeArg}: ${result.rps.toFixed(0)} req/s under the profiler, ${result.non2xx} non-2xx`);
    console.log(`self time, top ${TOP} (of all samples, idle included):`);
    for (const { name, ms, share } of selfTimes(profile).slice(0, TOP)) {
      console.log(`${(share * 100).toFixed(1).padStart(6)} %  ${ms.toFixed(0).padStart(7)} ms  ${name}`);
    }
    console.log(`wrote ${file}`);
  } finally {
    await running.stop();
  }
} finally {
  await stopProcess(originProcess);
  await issuer.close();
  await rm(workDir, { recursive: true, force: true });
}
