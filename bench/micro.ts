/**
 * The crypto floor, measured in the same workerd: µs per raw `crypto.subtle.verify` and per
 * call of edge-verifier's whole verification path, unique and repeated tokens.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { peakRssMb, rssMb } from './metrics/proc.ts';
import { BENCH_DIR, BIN } from './paths.ts';
import { startWorkerd } from './systems/workerd.ts';
import type { Alg, BenchKey } from './tokens.ts';

export interface MicroResult {
  rawVerifyUs: Record<Alg, number>;
  pathUniqueUs: Record<Alg, number>;
  pathRepeatedUs: number;
  /** workerd's resident memory while verifying 100k unique tokens (bounded caches). */
  memory: { lazy: MemoryPass; collected: MemoryPass };
}

export interface MemoryPass {
  tokens: number;
  /** RSS after the warm-up batch. */
  baselineMb: number;
  peakMb: number;
  endMb: number;
}

const N = 2_000;
const MEMORY_PASS_TOKENS = 100_000;
/** Tokens after the measured ones, verified before the baseline reading. */
const MEMORY_WARMUP_TOKENS = 2_000;
/**
 * Tokens per request in the memory pass. A batch's token array lives until the batch ends, so
 * with 500 a scavenge in the middle promoted it (~350 KB) and the harness itself added about
 * 20 MB of old-generation garbage to the default-heap figure; 100 keeps that small.
 */
const MEMORY_BATCH = 100;

/** Bundles bench/workers/micro.ts; plain esbuild, since this Worker is never deployed. */
export function buildMicroWorker(workDir: string): string {
  const outfile = `${workDir}/micro/index.js`;
  execFileSync(
    `${BIN}/esbuild`,
    [
      `${BENCH_DIR}/workers/micro.ts`,
      '--bundle',
      '--format=esm',
      '--platform=neutral',
      '--main-fields=module,main',
      '--conditions=workerd,worker,browser',
      `--outfile=${outfile}`,
    ],
    { stdio: 'ignore' },
  );
  return outfile;
}

export async function runMicro(
  keys: Record<Alg, BenchKey>,
  pools: Record<Alg, string>,
  vars: { ISSUER: string; AUDIENCE: string; JWKS_URI: string },
  workDir: string,
): Promise<MicroResult> {
  const outfile = buildMicroWorker(workDir);
  const workerVars = {
    ...vars,
    RS256_JWK: JSON.stringify(keys.RS256.publicJwk),
    ES256_JWK: JSON.stringify(keys.ES256.publicJwk),
  };
  const running = await startWorkerd('micro', outfile, workerVars);
  const tokensOf = (alg: Alg, count: number) => readFileSync(pools[alg], 'utf8').split('\n', count);
  /** Median over 5 timed requests of (time with n ops − time with 0 ops) / n, in µs. */
  const perOp = async (op: string, tokens: string[]) => {
    const time = async (n: number) => {
      const started = process.hrtime.bigint();
      const response = await fetch(running.url, { method: 'POST', body: JSON.stringify({ op, n, tokens }) });
      const { ok } = (await response.json()) as { ok: number };
      if (ok !== n) throw new Error(`${op}: only ${ok} of ${n} operations succeeded`);
      return Number(process.hrtime.bigint() - started) / 1000;
    };
    await time(200);
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) samples.push(((await time(N)) - (await time(0))) / N);
    return samples.sort((a, b) => a - b)[2] as number;
  };
  try {
    const result: MicroResult = {
      rawVerifyUs: {
        RS256: await perOp('raw-RS256', tokensOf('RS256', 1)),
        ES256: await perOp('raw-ES256', tokensOf('ES256', 1)),
      },
      pathUniqueUs: { RS256: 0, ES256: 0 },
      pathRepeatedUs: await perOp('path', tokensOf('RS256', 1)),
      memory: {
        lazy: { tokens: 0, baselineMb: 0, peakMb: 0, endMb: 0 },
        collected: { tokens: 0, baselineMb: 0, peakMb: 0, endMb: 0 },
      },
    };
    // Unique tokens: every timed request walks fresh ones (the verified-token cache holds 4,096).
    for (const alg of ['RS256', 'ES256'] as const) {
      const all = readFileSync(pools[alg], 'utf8').split('\n', 60_000);
      let offset = 0;
      const time = async (n: number) => {
        const tokens = all.slice(offset, offset + Math.max(n, 1));
        offset += n;
        const started = process.hrtime.bigint();
        const response = await fetch(running.url, { method: 'POST', body: JSON.stringify({ op: 'path', n, tokens }) });
        await response.json();
        return Number(process.hrtime.bigint() - started) / 1000;
      };
      await time(200);
      const samples: number[] = [];
      for (let i = 0; i < 5; i++) {
        const zero = await time(0);
        samples.push(((await time(N)) - zero) / N);
      }
      result.pathUniqueUs[alg] = samples.sort((a, b) => a - b)[2] as number;
    }
    result.memory = {
      lazy: await memoryPass(outfile, workerVars, pools.RS256, false),
      collected: await memoryPass(outfile, workerVars, pools.RS256, true),
    };
    return result;
  } finally {
    await running.stop();
  }
}

/**
 * RSS of a fresh workerd while 100k unique tokens go through authenticate(): the baseline is
 * read after a warm-up batch (JIT, imported key), then RSS is read after every batch; the
 * growth is the highest reading (or VmHWM) over the baseline. Its own process, so nothing the
 * timing passes left on the heap counts. Run twice: with V8's default heap sizing, which lets
 * garbage pile up long before it collects (local workerd has no isolate memory limit), and with
 * a full collection before each reading, which leaves what is really held: the bound the caches
 * promise.
 */
async function memoryPass(
  outfile: string,
  vars: Record<string, string>,
  poolFile: string,
  collect: boolean,
): Promise<MemoryPass> {
  const pool = readFileSync(poolFile, 'utf8')
    .split('\n', MEMORY_PASS_TOKENS + MEMORY_WARMUP_TOKENS)
    .filter(Boolean);
  const running = await startWorkerd(collect ? 'micro-memory-gc' : 'micro-memory', outfile, vars, {
    v8Flags: collect ? ['--expose-gc'] : [],
  });
  const post = async (op: string, tokens: string[]) => {
    const response = await fetch(running.url, {
      method: 'POST',
      body: JSON.stringify({ op, n: tokens.length, tokens }),
    });
    const { ok } = (await response.json()) as { ok: number };
    if (ok !== tokens.length) throw new Error(`memory pass: only ${ok} of ${tokens.length} tokens verified`);
  };
  const reading = async () => {
    if (collect) await post('gc', []);
    return rssMb(running.pid);
  };
  // Warm-up tokens from the end of the pool, so a small pool (a quick run) still has them.
  const warmup = pool.slice(-MEMORY_WARMUP_TOKENS);
  const measured = pool.slice(0, Math.min(MEMORY_PASS_TOKENS, pool.length - warmup.length));
  try {
    for (let offset = 0; offset < warmup.length; offset += MEMORY_BATCH) {
      await post('path', warmup.slice(offset, offset + MEMORY_BATCH));
    }
    const baselineMb = await reading();
    let peakMb = baselineMb;
    let tokens = 0;
    for (let offset = 0; offset < measured.length; offset += MEMORY_BATCH) {
      const batch = measured.slice(offset, offset + MEMORY_BATCH);
      await post('path', batch);
      tokens += batch.length;
      peakMb = Math.max(peakMb, await reading());
    }
    const endMb = await reading();
    // VmHWM also catches a peak between two readings; this process saw nothing but this pass.
    return { tokens, baselineMb, peakMb: Math.max(peakMb, peakRssMb(running.pid)), endMb };
  } finally {
    await running.stop();
  }
}
