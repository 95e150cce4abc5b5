/**
 * Knobs of one benchmark run. The full run stays under 8 minutes on a 2-core machine;
 * BENCH_QUICK=1 is a smoke run of about a minute. Every address is loopback.
 */
const quick = process.env.BENCH_QUICK === '1';

export const SETTINGS = {
  quick,
  /** Measured seconds per system and mode (the issue asks for at least 10). */
  seconds: Number(process.env.BENCH_SECONDS ?? (quick ? 3 : 10)),
  /** Warm-up seconds before each measurement: fills JWKS caches and JIT. */
  warmupSeconds: 1,
  /** Interleaved rounds (A B C … A B C …); the table reports medians. */
  rounds: Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 3)),
  connections: 32,
  threads: 2,
  /** Unique tokens per algorithm; a measurement that would need more says so. */
  uniqueTokens: Number(process.env.BENCH_UNIQUE_TOKENS ?? (quick ? 20_000 : 100_000)),
  audience: 'https://api.bench.test',
  host: '127.0.0.1',
} as const;
