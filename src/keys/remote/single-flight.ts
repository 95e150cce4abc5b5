import { VerifierError } from '../../errors.ts';
import type { Clock } from '../../shared/clock.ts';

export interface SingleFlight<T> {
  /** Whether a load is running. */
  readonly running: boolean;
  /** Starts `start` unless a load is running, in which case the caller waits on that one instead. */
  run(start: () => Promise<T>): Promise<T>;
  /**
   * Waits on the running load, or resolves to `fallback()` after the bound, or after `atMostMs`
   * when that is shorter (rejects when it has nothing). Only the full bound forgets a stuck load.
   */
  wait(fallback: () => T | undefined, atMostMs?: number): Promise<T>;
}

/**
 * Concurrent requests share one load instead of each starting its own. A promise created by
 * another request can hang on Workers once that request ends (panva/jose#355, #509), so a
 * waiter gives up after `waitMs` and takes `fallback()`; the stuck load is forgotten then, so
 * the next request may start a new one.
 */
export function createSingleFlight<T>(clock: Clock, waitMs: number, fallback: () => T | undefined): SingleFlight<T> {
  let inflight: Promise<T> | undefined;

  function wait(load: Promise<T>, orElse: () => T | undefined, atMostMs = waitMs): Promise<T> {
    let cancel: (() => void) | undefined;
    const bound = new Promise<T>((resolve, reject) => {
      cancel = clock.after(Math.min(atMostMs, waitMs), () => {
        if (inflight === load && atMostMs >= waitMs) inflight = undefined;
        const value = orElse();
        if (value !== undefined) resolve(value);
        else reject(new VerifierError('jwks_unavailable'));
      });
    });
    return Promise.race([load, bound]).finally(() => cancel?.());
  }

  return {
    get running() {
      return inflight !== undefined;
    },
    run(start) {
      if (inflight) return wait(inflight, fallback);
      const load = start().finally(() => {
        if (inflight === load) inflight = undefined;
      });
      inflight = load;
      return load;
    },
    wait(orElse, atMostMs) {
      return inflight ? wait(inflight, orElse, atMostMs) : Promise.reject(new VerifierError('jwks_unavailable'));
    },
  };
}
