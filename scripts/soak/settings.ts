/**
 * Knobs of one soak run. `--short` (or `SOAK_REQUESTS=2000`) is the CI run; the full run is
 * 20,000 requests and stays under 5 minutes on a 2-core machine. Every address is loopback.
 */

const short = process.argv.includes('--short');

function whole(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new TypeError(`${name} must be an integer ≥ ${min}, not "${raw}"`);
  return value;
}

const requests = whole('SOAK_REQUESTS', short ? 2_000 : 20_000, 200);

export const SETTINGS = {
  /** Requests sent in all, every kind together. */
  requests,
  /** Async clients in the soak process, each with one request in flight at a time. */
  concurrency: whole('SOAK_CONCURRENCY', 64, 1),
  /**
   * The run is aborted, non-zero, after this many seconds, start-up included. Default: 90 s for
   * a run of at most 2,000 requests (it takes about 15), else 360 s.
   */
  timeLimitSeconds: whole('SOAK_TIME_LIMIT_SECONDS', requests <= 2_000 ? 90 : 360, 10),
  /** Bytes of request bodies sent in all, spread evenly over the run (mix.ts); 24 KB per request by default. */
  bodyBudgetBytes: whole('SOAK_BODY_BUDGET_BYTES', requests * 24 * 1024, 0),
  /**
   * The Worker's JWKS_REFRESH_COOLDOWN_SECONDS: its least. Every issuer fetch starts a cooldown
   * in which an unknown kid cannot cause another, so a short one lets the rotation show soon.
   */
  refreshCooldownSeconds: 1,
  /** The Worker's JWKS_CACHE_TTL_SECONDS: short, so background refreshes happen under load too. */
  cacheTtlSeconds: 5,
  /**
   * Seconds a single request may take before the client gives up (a network error). Longer than
   * the Worker's 30 s origin timeout, so that an origin answering late shows as the Worker's 504.
   */
  requestTimeoutSeconds: 60,
};
