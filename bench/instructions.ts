/**
 * `npm run bench:instructions`: instructions per operation inside workerd, counted by
 * valgrind's callgrind. Unlike seconds, the count does not move when the host gives the cores
 * to someone else, so it shows small changes to the hot path that wrk's figures bury in noise.
 * It is a proxy for CPU time (it ignores cache misses and how fast each instruction retires),
 * and it is what RESULTS.md compares between commits. The "B gateway request" rows are the Worker
 * as deployed: the real console logger at the default LOG_LEVEL (a row per level follows); the
 * "no-op logger" rows are the Worker's own work without its log lines.
 *
 * Each operation runs in bench/workers/micro.ts inside one workerd under callgrind (the identity
 * assertion's pair in a second one, `ASSERTION_PAIR`): counters
 * are zeroed, one POST runs the operation `n` times, the counters are dumped; the same with
 * `none` is subtracted. A full GC runs before each batch, outside the count, so every batch
 * meets the same collections, and V8 runs single-threaded (compilers and GC on the main
 * thread): under valgrind a background compile may never land, leaving JavaScript
 * interpreted, and background GC threads would add their work at random. Most repeats agree
 * within about 2 %; the outliers (each run's samples are printed) are why the median is taken.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { exportJWK, generateKeyPair } from 'jose';
import { startDevIssuer } from '../scripts/dev-issuer.ts';
import { LOG_LEVELS } from '../src/observe/events.ts';
import { buildMicroWorker } from './micro.ts';
import { RESULTS_DIR } from './paths.ts';
import { SETTINGS } from './settings.ts';
import { startWorkerd } from './systems/workerd.ts';
import { ALGS, createMinter, loadOrCreateKeys, tokenPool } from './tokens.ts';
import { ensureTool } from './tools.ts';

/** Operations per measurement: enough that one GC more or less is a rounding error. */
const N = Number(process.env.BENCH_INSTRUCTIONS_N ?? 400);
/** Passes before counting: V8 tiers up by invocation counts, not time, so this is the same under valgrind. */
const WARMUP_PASSES = 3;
/**
 * Each operation is counted this many times; the table gives the median. Five, not three: in a
 * full run a batch now and then still meets a compile or a collection (tens of thousands per
 * operation, nearly always in the first repeat), and with three a second such batch moved the median.
 */
const REPEATS = 5;

interface Operation {
  readonly label: string;
  readonly op: string;
  readonly tokens: 'unique RS256' | 'unique ES256' | 'repeated RS256';
}

const ALL_OPERATIONS: readonly Operation[] = [
  { label: 'raw crypto.subtle.verify RS256', op: 'raw-RS256', tokens: 'repeated RS256' },
  { label: 'raw crypto.subtle.verify ES256', op: 'raw-ES256', tokens: 'unique ES256' },
  { label: 'jose compactVerify RS256, key imported', op: 'jose-RS256', tokens: 'unique RS256' },
  { label: 'token shape check RS256', op: 'shape', tokens: 'unique RS256' },
  { label: 'path normaliser, ordinary path', op: 'normalize-ordinary', tokens: 'repeated RS256' },
  { label: 'path normaliser, encoded path', op: 'normalize-encoded', tokens: 'repeated RS256' },
  { label: 'new Request (subtracted below)', op: 'request', tokens: 'unique RS256' },
  { label: 'authenticate() unique RS256', op: 'path', tokens: 'unique RS256' },
  { label: 'authenticate() repeated RS256', op: 'path', tokens: 'repeated RS256' },
  { label: 'A pass-through request', op: 'passthrough', tokens: 'repeated RS256' },
  { label: 'A + the runtime calls a forward requires, repeated RS256', op: 'floor', tokens: 'repeated RS256' },
  { label: 'B gateway, no-op logger, repeated RS256', op: 'gateway', tokens: 'repeated RS256' },
  { label: 'B gateway, no-op logger, unique RS256', op: 'gateway', tokens: 'unique RS256' },
  { label: 'B gateway request, repeated RS256', op: 'gateway-default', tokens: 'repeated RS256' },
  { label: 'B gateway request, unique RS256', op: 'gateway-default', tokens: 'unique RS256' },
  { label: 'B gateway request, unique ES256', op: 'gateway-default', tokens: 'unique ES256' },
  ...LOG_LEVELS.map(
    (level): Operation => ({
      label: `B gateway, LOG_LEVEL=${level}, repeated RS256`,
      op: `gateway-${level}`,
      tokens: 'repeated RS256',
    }),
  ),
];
const ASSERTION_OFF = 'B gateway, no-op logger, repeated RS256';
const ASSERTION_ON = 'B gateway + identity assertion, no-op logger, repeated RS256';
/**
 * The identity assertion's cost, counted in a workerd of its own that runs only the gateway
 * with it and the same gateway without it, one after the other: a deployment's isolate runs one
 * gateway, where the shared one above runs seven, and each call site the gateways share sees
 * them all (there its repeats moved by ±15 k, and the difference read 14.8 k where alone it
 * reads 8.3 k).
 */
const ALL_ASSERTION_PAIR: readonly Operation[] = [
  { label: ASSERTION_OFF, op: 'gateway', tokens: 'repeated RS256' },
  { label: ASSERTION_ON, op: 'gateway-assertion', tokens: 'repeated RS256' },
];
/** BENCH_ONLY=regex narrows the run to matching labels (the pass-through and the raw verify always run: the summary needs them). */
const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
const OPERATIONS = ALL_OPERATIONS.filter(
  ({ label }) =>
    !only ||
    only.test(label) ||
    label.startsWith('A ') ||
    label.startsWith('raw crypto.subtle.verify RS256') ||
    label.startsWith('new Request'),
);
const ASSERTION_PAIR = ALL_ASSERTION_PAIR.some(({ label }) => !only || only.test(label)) ? ALL_ASSERTION_PAIR : [];

/** The identity assertion's secret for the `gateway-assertion` operation: one fresh ES256 key. */
async function assertionKeys(): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: 'bench' }] });
}

const valgrind = ensureTool('valgrind', 'valgrind');
if (!valgrind.ok) {
  console.error(`${valgrind.note}; bench:instructions counts with valgrind's callgrind.`);
  process.exit(1);
}

const workDir = await mkdtemp(`${tmpdir()}/edge-verifier-instructions-`);
const issuer = await startDevIssuer();
try {
  const jwksUri = `${issuer.url}/t/bench/jwks`;
  const target = { issuer: SETTINGS.issuer, audience: SETTINGS.audience };
  const keys = await loadOrCreateKeys();
  await fetch(jwksUri, { method: 'PUT', body: JSON.stringify({ keys: ALGS.map((alg) => keys[alg].publicJwk) }) });
  const need = N * (WARMUP_PASSES + REPEATS) * OPERATIONS.length;
  const unique = {
    RS256: (await readFile(await tokenPool(keys.RS256, target, SETTINGS.uniqueTokens), 'utf8')).split('\n', need),
    ES256: (await readFile(await tokenPool(keys.ES256, target, SETTINGS.uniqueTokens), 'utf8')).split('\n', need),
  };
  const repeated = await (await createMinter(keys.RS256, target))('repeated');
  const offsets = { RS256: 0, ES256: 0 };
  const tokensFor = (kind: Operation['tokens']): string[] => {
    if (kind === 'repeated RS256') return [repeated];
    const alg = kind === 'unique RS256' ? 'RS256' : 'ES256';
    const slice = unique[alg].slice(offsets[alg], offsets[alg] + N);
    offsets[alg] += N;
    return slice;
  };

  const bindings: Bindings = {
    ISSUER: SETTINGS.issuer,
    AUDIENCE: SETTINGS.audience,
    JWKS_URI: jwksUri,
    RS256_JWK: JSON.stringify(keys.RS256.publicJwk),
    ES256_JWK: JSON.stringify(keys.ES256.publicJwk),
    ASSERTION_KEYS: await assertionKeys(),
  };
  const started = Date.now();
  const samples = await countIn('shared', OPERATIONS, bindings, tokensFor);
  const pair = await countIn('assertion', ASSERTION_PAIR, bindings, tokensFor);
  report(samples, pair, (Date.now() - started) / 1000);
  const path = `${RESULTS_DIR}/instructions.json`;
  await writeFile(
    path,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        n: N,
        samples: Object.fromEntries(samples),
        assertionIsolate: Object.fromEntries(pair),
        derived: derive(samples, pair),
      },
      null,
      2,
    ),
  );
  console.log(`wrote ${path}`);
} finally {
  await issuer.close();
  // BENCH_KEEP_DUMPS=1 keeps callgrind's dumps (per workerd, one per count, in the order of its table) for callgrind_annotate.
  if (process.env.BENCH_KEEP_DUMPS) console.log(`callgrind dumps kept in ${workDir}`);
  else await rm(workDir, { recursive: true, force: true });
}

type Bindings = Record<string, string>;
type Samples = Map<string, number[]>;

/**
 * Starts one workerd under callgrind with the micro-benchmark Worker, warms every operation up,
 * then counts each `REPEATS` times (a batch of nothing subtracted); instructions per operation,
 * by label. `name` keeps each workerd's dumps apart.
 */
async function countIn(
  name: string,
  operations: readonly Operation[],
  bindings: Bindings,
  tokensFor: (kind: Operation['tokens']) => string[],
): Promise<Samples> {
  const samples: Samples = new Map();
  if (operations.length === 0) return samples;
  const cgOut = `${workDir}/${name}.callgrind.out`;
  const running = await startWorkerd('instructions', buildMicroWorker(workDir), bindings, {
    wrapper: ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', `--callgrind-out-file=${cgOut}`],
    v8Flags: ['--single-threaded', '--expose-gc'],
    startTimeoutMs: 180_000,
  });
  const pid = String(running.pid);
  const post = async (op: string, tokens: string[]) => {
    const response = await fetch(running.url, { method: 'POST', body: JSON.stringify({ op, n: N, tokens }) });
    const { ok } = (await response.json()) as { ok: number };
    if (ok !== N) throw new Error(`${op}: ${ok} of ${N} operations succeeded`);
  };
  let dumps = 0;
  const count = async (op: string, tokens: string[]): Promise<number> => {
    // Every batch starts from an empty young generation, so it meets the same collections each time.
    await fetch(running.url, { method: 'POST', body: JSON.stringify({ op: 'gc', n: 0, tokens: [] }) });
    execFileSync('callgrind_control', ['-z', pid], { stdio: 'ignore' });
    await post(op, tokens);
    execFileSync('callgrind_control', ['-d', pid], { stdio: 'ignore' });
    dumps++;
    // callgrind numbers its dumps from 1, next to the --callgrind-out-file.
    const totals = /^(?:summary|totals):\s+(\d+)/m.exec(await readFile(`${cgOut}.${dumps}`, 'utf8'));
    if (!totals) throw new Error(`callgrind dump ${dumps} has no totals`);
    return Number(totals[1]);
  };
  try {
    for (let pass = 0; pass < WARMUP_PASSES; pass++) {
      for (const operation of operations) await post(operation.op, tokensFor(operation.tokens));
    }
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      const none = await count('none', []);
      for (const operation of operations) {
        const total = await count(operation.op, tokensFor(operation.tokens));
        samples.set(operation.label, [...(samples.get(operation.label) ?? []), (total - none) / N]);
      }
    }
    return samples;
  } finally {
    await running.stop();
  }
}

function median(samples: Samples, label: string): number {
  const sorted = [...(samples.get(label) ?? [])].sort((a, b) => a - b);
  return sorted.length ? (sorted[Math.floor(sorted.length / 2)] as number) : Number.NaN;
}

/** The summary's figures: B over A, the floor over A, authenticate() alone, the identity assertion's cost. */
function derive(samples: Samples, pair: Samples) {
  const at = (label: string) => median(samples, label);
  const request = at('new Request (subtracted below)');
  const passthrough = at('A pass-through request');
  return {
    authenticateUniqueRs256: at('authenticate() unique RS256') - request,
    authenticateRepeated: at('authenticate() repeated RS256') - request,
    addedRepeated: at('B gateway request, repeated RS256') - passthrough,
    floorRepeated: at('A + the runtime calls a forward requires, repeated RS256') - passthrough,
    addedUniqueRs256: at('B gateway request, unique RS256') - passthrough,
    addedUniqueEs256: at('B gateway request, unique ES256') - passthrough,
    identityAssertionRepeated: median(pair, ASSERTION_ON) - median(pair, ASSERTION_OFF),
  };
}

function report(samples: Samples, pair: Samples, seconds: number): void {
  const kilo = (value: number) => `${(value / 1000).toFixed(1)} k`;
  const rows = (table: Samples) => {
    for (const [label, counted] of table) {
      const runs = counted.map(kilo).join(', ');
      console.log(`  ${label.padEnd(40)} ${kilo(median(table, label)).padStart(9)}   (${runs})`);
    }
  };
  console.log(`instructions per operation (callgrind, median of ${REPEATS} × ${N}; ${seconds.toFixed(0)} s):`);
  rows(samples);
  if (pair.size > 0) {
    console.log('the identity assertion, its pair alone in a second workerd:');
    rows(pair);
  }
  const derived = derive(samples, pair);
  const raw = median(samples, 'raw crypto.subtle.verify RS256');
  console.log('');
  console.log(
    `B over A per request: repeated ${kilo(derived.addedRepeated)}, unique RS256 ${kilo(derived.addedUniqueRs256)} `,
  );
  console.log(
    `  (${(derived.addedUniqueRs256 / raw).toFixed(2)} × a raw RS256 verify), unique ES256 ${kilo(derived.addedUniqueEs256)}`,
  );
  console.log(
    `  floor over A, repeated RS256: ${kilo(derived.floorRepeated)} (the runtime calls alone, bench/workers/floor.ts)`,
  );
  console.log(
    `authenticate() alone: unique RS256 ${kilo(derived.authenticateUniqueRs256)} (${(derived.authenticateUniqueRs256 / raw).toFixed(2)} × raw verify), repeated ${kilo(derived.authenticateRepeated)}`,
  );
  console.log(
    `identity assertion on over off, no-op logger, repeated RS256: ${kilo(derived.identityAssertionRepeated)} per request`,
  );
}
