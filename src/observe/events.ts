/**
 * Every event the Worker logs, with its level and when it is written: the one table that
 * `LOG_LEVEL` filters by and that the reference (docs/reference/log-events.md) is generated from.
 * `Logger` takes only these names, so an event missing here does not compile.
 */

/** `LOG_LEVEL`, least to most: each level keeps the events of the ones before it. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

interface EventSpec {
  /** The level it is logged at (a `request` line carries its own, by outcome). */
  readonly level: LogLevel;
  /** When it is written, for the reference. */
  readonly when: string;
}

export const LOG_EVENTS = {
  request: {
    level: 'info',
    when: 'the decision line: for every refusal (warn) and failure (error, a 5xx), and for a sampled share of the requests forwarded or answered (info, LOG_SUCCESS_SAMPLE; every one at debug, with the token alg)',
  },
  config_invalid: {
    level: 'error',
    when: 'the configuration is invalid: every request is answered 500 until it is fixed',
  },
  jwks_unavailable: {
    level: 'error',
    when: 'no usable key set for an issuer: nothing cached and the fetch failed (503)',
  },
  jwks_refresh_failed: {
    level: 'warn',
    when: 'a refresh of a key set failed; the set held is served while it may be (stale-if-error)',
  },
  jwks_key_skipped: {
    level: 'warn',
    when: 'a key of a fetched JWKS is unusable (symmetric, private, weak, wrong use or curve) and is left out',
  },
  jwks_key_import_failed: {
    level: 'warn',
    when: 'a key of a fetched JWKS could not be imported for the token algorithm',
  },
  jwks_tier_error: {
    level: 'warn',
    when: 'a shared cache tier (Cache API, KV) failed or timed out; once per tier, op and cooldown',
  },
  jwks_coordinator_unavailable: {
    level: 'warn',
    when: 'the JWKS coordinator failed or did not answer in time; the isolate fetches from the issuer itself (once per cooldown)',
  },
  coordinator_fetch_failed: {
    level: 'warn',
    when: 'the JWKS coordinator could not fetch from the issuer; it serves the set it stored, if any',
  },
  jwks_fetched: {
    level: 'info',
    when: 'a key set was fetched from the issuer (by: coordinator when the coordinator fetched it)',
  },
  dpop_replay_unavailable: {
    level: 'warn',
    when: 'the DPoP replay store failed or did not answer in time; replay is checked in this isolate only',
  },
  rate_limit_unavailable: {
    level: 'warn',
    when: "a route's Rate Limiting binding failed; the request is let through uncounted",
  },
  introspection_unauthorized: {
    level: 'error',
    when: 'the introspection endpoint refused our client credentials (500)',
  },
  introspection_refused: {
    level: 'error',
    when: 'the introspection endpoint answered 400 for a token: it is refused as inactive',
  },
  introspection_unavailable: {
    level: 'warn',
    when: 'the introspection endpoint failed, timed out or is not known (503)',
  },
} as const satisfies Record<string, EventSpec>;

export type LogEvent = keyof typeof LOG_EVENTS;
