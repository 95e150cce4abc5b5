import type { ErrorCode } from '../errors.ts';
import { readBinding } from '../worker/secrets.ts';
import type { Decision } from './decision.ts';
import { LOG_LEVELS, type Logger, type LogLevel } from './log.ts';

/** How a request ended: forwarded (gateway), allowed on to the next handler (middleware), answered here, or refused. */
export type Outcome = 'forwarded' | 'allowed' | 'resource_metadata' | 'identity_assertion_jwks' | ErrorCode;

export interface RequestOutcome {
  readonly outcome: Outcome;
  readonly status: number;
  readonly method: string;
  readonly path: string;
  readonly decision: Decision;
  /** Milliseconds until the origin's response headers (gateway only). */
  readonly originMs?: number | undefined;
  /** For a configuration problem, what is wrong; for an unexpected failure, what was thrown. */
  readonly error?: string | undefined;
}

/** Workers Analytics Engine's binding, the part we call (its API is the contract). */
export interface AnalyticsEngine {
  writeDataPoint(point: { blobs?: string[]; doubles?: number[]; indexes?: string[] }): void;
}

/** The Analytics Engine binding's name: one data point per request when it is bound. */
export const ANALYTICS_BINDING = 'AUTH_ANALYTICS';

export type Reporter = (env: unknown, outcome: RequestOutcome) => void;

/** Which successes get a decision line at `info`: every refusal and failure does, and every success at `debug`. */
export interface SuccessSampling {
  /** The share of successes written, 0 to 1. Default 1 (the gateway passes `LOG_SUCCESS_SAMPLE`). */
  readonly successSample?: number;
  /** Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * One structured line per request decision (`event: "request"`, at `error` for 5xx, `warn` for
 * other refusals, `info` otherwise, for a sampled share of successes at `info`; `debug` writes
 * every one and adds the token's `alg`), and, when `AUTH_ANALYTICS`
 * is bound, one Analytics Engine data point: blobs outcome, route, issuer, key tier; doubles
 * verify ms, origin ms, status; index issuer. Nothing from the token but its `alg` and the `kid`
 * of a key we hold.
 */
export function createReporter(log: Logger, level: LogLevel, sampling: SuccessSampling = {}): Reporter {
  const debug = level === 'debug';
  const kept = LOG_LEVELS.indexOf(level);
  const { successSample = 1, random = Math.random } = sampling;
  return (env, { outcome, status, method, path, decision, originMs, error }) => {
    const lineLevel = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    // Below the level, or a success left out of the sample, the line is not even built.
    const written =
      LOG_LEVELS.indexOf(lineLevel) <= kept &&
      (lineLevel !== 'info' || debug || successSample >= 1 || random() < successSample);
    if (written) {
      log('request', {
        level: lineLevel,
        outcome,
        status,
        method,
        path,
        route: decision.route,
        matched_path: decision.matchedPath,
        token_source: decision.tokenSource,
        issuer: decision.issuer,
        tenant: decision.tenant,
        kid: decision.kid,
        key_tier: decision.keyTier,
        verify_ms: decision.verifyMs,
        origin_ms: originMs,
        ...(error ? { error } : {}),
        ...(debug && decision.alg ? { alg: decision.alg } : {}),
      });
    }
    const analytics = readBinding(env, ANALYTICS_BINDING) as AnalyticsEngine | undefined;
    analytics?.writeDataPoint({
      blobs: [outcome, decision.route ?? '', decision.issuer ?? '', decision.keyTier ?? ''],
      doubles: [decision.verifyMs ?? 0, originMs ?? 0, status],
      indexes: [decision.issuer ?? ''],
    });
  };
}
