/**
 * The crypto floor, measured in the same workerd: µs per raw `crypto.subtle.verify` and per
 * call of edge-verifier's whole verification path, unique and repeated tokens.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { peakRssMb, rssMb } from './metrics/proc.ts';
import { BENCH_DIR, BIN, RESULTS_DIR } from './paths.ts';
import { startWorkerd } from './systems/workerd.ts';
import type { Alg, BenchKey } from './tokens.ts';

export interface MicroResult {
  rawVerifyUs: Record<Alg, number>;
  pathUniqueUs: Record<Alg, number>;
  pathRepeatedUs: number;
  /** workerd's resident memory before and after verifying 100k unique tokens (bounded caches). */
  memory: { tokens: number; rssBeforeMb: number; rssAfterMb: number; peakMb: number };
}

const N = 2_000;

export async function runMicro(
  keys: Record<Alg, BenchKey>,
  pools: Record<Alg, string>,
  vars: { ISSUER: string; AUDIENCE: string; JWKS_URI: string },
): Promise<MicroResult> {
  const outfile = `${RESULTS_DIR}/build/micro/index.js`;
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
  const running = await startWorkerd('micro', outfile, {
    ...vars,
    RS256_JWK: JSON.stringify(keys.RS256.publicJwk),
    ES256_JWK: JSON.stringify(keys.ES256.publicJwk),
  });
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
      memory: { tokens: 0, rssBeforeMb: 0, rssAfterMb: 0, peakMb: 0 },
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
    // Every token of the pool through authenticate(), in batches, to show the caches stay bounded.
    const pool = readFileSync(pools.RS256, 'utf8').split('\n').filter(Boolean);
    result.memory.rssBeforeMb = rssMb(running.pid);
    for (let offset = 0; offset < pool.length; offset += 2_000) {
      const tokens = pool.slice(offset, offset + 2_000);
      const response = await fetch(running.url, {
        method: 'POST',
        body: JSON.stringify({ op: 'path', n: tokens.length, tokens }),
      });
      await response.json();
      result.memory.tokens += tokens.length;
    }
    result.memory.rssAfterMb = rssMb(running.pid);
    result.memory.peakMb = peakRssMb(running.pid);
    return result;
  } finally {
    await running.stop();
  }
}
