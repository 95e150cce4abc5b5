/**
 * Knobs of one simulation run. `FULL_SIZE` is `npm run simulate` (300 data centres × 20 isolates);
 * `SMALL` is what test/simulation.test.ts runs inside workerd in a few seconds.
 */
import { DEFAULT_JWKS_CACHE_TTL_SECONDS, DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS } from '../../src/constants.ts';

export interface Latencies {
  readonly cacheApiMs: number;
  readonly kvHotMs: number;
  readonly kvColdMs: number;
  /** A KV read is hot when its data centre read the same key this recently. */
  readonly kvHotWindowMs: number;
  readonly kvWriteMs: number;
  /** Round trip to the coordinator from the data centre it lives in… */
  readonly coordinatorNearMs: number;
  /** …and from the farthest one; the others lie evenly between. */
  readonly coordinatorFarMs: number;
  readonly issuerMs: number;
  /** The coordinator's Durable Object storage, per read or write, drawn evenly from this range. */
  readonly coordinatorStorageMinMs: number;
  readonly coordinatorStorageMaxMs: number;
}

/** When things happen in the rotation and outage scenarios, and how long each runs. */
export interface Timeline {
  /** Length of the steady and random-kid scenarios after the warm-up. */
  readonly steadySeconds: number;
  /** When the key set changes (rotation) or the issuer goes down (outage): after the warm-up. */
  readonly changeAtSeconds: number;
  /** Over how long tokens move to the new key once it is used (0: all at once). */
  readonly rampSeconds: number;
  readonly outageSeconds: number;
  /** Simulated time after the last change, to see its effects out. */
  readonly tailSeconds: number;
}

export interface SimSettings {
  readonly dcs: number;
  readonly isolates: number;
  /** Requests per simulated second, the whole world together. */
  readonly ratePerSecond: number;
  readonly seed: number;
  /** KV's propagation delay between data centres. */
  readonly kvDelaySeconds: number;
  /** Requests that arrive before this count only for "valid tokens refused". */
  readonly warmupSeconds: number;
  readonly ttlSeconds: number;
  readonly cooldownSeconds: number;
  /** The scheduled refresh (`refresh(io)` on one isolate somewhere, as a cron runs once per schedule); 0: none. */
  readonly cronSeconds: number;
  /** The issuer's `Cache-Control: max-age` on the JWKS; `undefined`: none. */
  readonly issuerMaxAgeSeconds: number | undefined;
  readonly tokens: number;
  readonly zipfExponent: number;
  readonly randomKidShare: number;
  readonly latencies: Latencies;
  readonly timeline: Timeline;
}

export const LATENCIES: Latencies = {
  cacheApiMs: 2,
  kvHotMs: 10,
  kvColdMs: 100,
  kvHotWindowMs: 60_000,
  kvWriteMs: 10,
  coordinatorNearMs: 20,
  coordinatorFarMs: 150,
  issuerMs: 150,
  coordinatorStorageMinMs: 1,
  coordinatorStorageMaxMs: 20,
};

/**
 * 300 × 20 isolates at 2,000 requests per simulated second (each isolate sees one every 3 s).
 * The whole run is 87 simulated minutes, each scenario twice.
 */
export const FULL_SIZE: SimSettings = {
  dcs: 300,
  isolates: 20,
  ratePerSecond: 2_000,
  seed: 1,
  kvDelaySeconds: 60,
  warmupSeconds: 60,
  ttlSeconds: DEFAULT_JWKS_CACHE_TTL_SECONDS,
  cooldownSeconds: DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS,
  // wrangler.toml's crons = ["*/5 * * * *"].
  cronSeconds: 300,
  issuerMaxAgeSeconds: 600,
  tokens: 100_000,
  zipfExponent: 1,
  randomKidShare: 0.01,
  latencies: LATENCIES,
  timeline: { steadySeconds: 600, changeAtSeconds: 120, rampSeconds: 300, outageSeconds: 1_800, tailSeconds: 180 },
};

/**
 * 6 × 4 isolates at 40 requests per second (each isolate sees about two a second), a 120 s TTL
 * so that the pre-published key and the outage's stale sets show within minutes, and tokens
 * moving to a new key all at once: every isolate meets the new kid within seconds of the change.
 */
export const SMALL: SimSettings = {
  ...FULL_SIZE,
  dcs: 6,
  isolates: 4,
  ratePerSecond: 40,
  tokens: 1_000,
  ttlSeconds: 120,
  issuerMaxAgeSeconds: 120,
  timeline: { steadySeconds: 180, changeAtSeconds: 90, rampSeconds: 0, outageSeconds: 300, tailSeconds: 60 },
};

/** Checks the knobs once, naming the one that is wrong. */
export function checkSettings(settings: SimSettings): SimSettings {
  const whole = (name: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min)
      throw new TypeError(`${name} must be an integer ≥ ${min}, not ${value}`);
  };
  whole('dcs', settings.dcs, 1);
  whole('isolates', settings.isolates, 1);
  whole('seed', settings.seed, 0);
  if (!(settings.ratePerSecond > 0)) throw new TypeError(`rate must be above 0, not ${settings.ratePerSecond}`);
  if (!(settings.kvDelaySeconds >= 0)) throw new TypeError(`kv-delay must be ≥ 0 s, not ${settings.kvDelaySeconds}`);
  if (!(settings.warmupSeconds >= 0 && settings.warmupSeconds < settings.timeline.changeAtSeconds)) {
    throw new TypeError(
      `warmup must be ≥ 0 s and before the change at ${settings.timeline.changeAtSeconds} s, not ${settings.warmupSeconds}`,
    );
  }
  if (!(settings.timeline.rampSeconds >= 0))
    throw new TypeError(`ramp must be ≥ 0 s, not ${settings.timeline.rampSeconds}`);
  return settings;
}
