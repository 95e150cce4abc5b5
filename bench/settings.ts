/**
 * Knobs of one benchmark run. The full run stays under 10 minutes on a 2-core machine;
 * BENCH_QUICK=1 is a smoke run of about a minute. Every address is loopback.
 */
const quick = process.env.BENCH_QUICK === '1';

export const SETTINGS = {
  quick,
  /** Measured seconds per system and mode (the issue asks for at least 10). */
  seconds: Number(process.env.BENCH_SECONDS ?? (quick ? 3 : 10)),
  /**
   * Warm-up seconds before each measurement, with a repeated token: fills the JWKS caches and
   * gets V8 past its first tiers. 1 s is thousands of requests; 3 s per measurement would
   * cost 66 s of the 8-minute budget.
   */
  warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 1),
  /** Interleaved rounds (A B C … A B C …); the table reports medians. */
  rounds: Number(process.env.BENCH_ROUNDS ?? (quick ? 1 : 3)),
  connections: 32,
  threads: 2,
  /**
   * Unique tokens per algorithm. HAProxy verifies about 15k RS256 tokens a second here, so a
   * 10 s measurement needs 150k; a measurement that runs out anyway says so (`wrapped`).
   */
  uniqueTokens: Number(process.env.BENCH_UNIQUE_TOKENS ?? (quick ? 20_000 : 160_000)),
  /**
   * The whole run stops by itself within this many seconds: once a measurement would not fit
   * before the micro-benchmark's reserve, the remaining ones are skipped and the table says so.
   */
  budgetSeconds: Number(process.env.BENCH_BUDGET_SECONDS ?? (quick ? 100 : 580)),
  /**
   * Zipf mode: each request's token drawn from this many (the unique RS256 pool's first), the
   * k-th most used with weight 1/k^s: many clients, each reusing its token, a few far busier.
   */
  zipf: { tokens: 10_000, s: 1.1 },
  /** Peers (C–F) measured with unique ES256 tokens too; off by default because it does not fit in 10 minutes. */
  peersEs256: process.env.BENCH_PEER_ES256 === '1',
  /**
   * The `iss` every token carries and every verifier expects. Not the dev issuer's URL: that
   * has a new port on every run, and a fixed name lets the minted pool serve many runs. The
   * JWKS is still fetched from the dev issuer (JWKS_URI), so fetches are counted.
   */
  issuer: 'https://issuer.bench.test',
  audience: 'https://api.bench.test',
} as const;
