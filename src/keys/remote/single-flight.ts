import { VerifierError } from '../../errors.ts';
import type { Clock } from '../../shared/clock.ts';

export interface SingleFlight<T> {
  /** Whether a load is running. */
  readonly running: boolean;
  /** Starts `start` unless a load is running, in which case the caller waits on that one instead. */
  run(start: () => Promise<T>): Promise<T>;
  /**
   * Waits on the running load, or resolves to `fallback()` after the bound, or after `atMostMs`
   * when that is shorter (rejects when it has nothing).
   */
  wait(fallback: () => T | undefined, atMostMs?: number): Promise<T>;
}

/**
 * Concurrent requests share one load instead of each starting its own. A promise created by
 * another request can hang on Workers once that request ends (panva/jose#355, #509), so a
 * waiter gives up after `waitMs` and takes `fallback()`. A load older than `waitMs` is stuck and
 * no longer counts as running, whoever waited on it and for how long, so the next request may
 * start a new one (a waiter with a shorter `atMostMs` never holds a stuck load in place).
 */
export function createSingleFlight<T>(clock: Clock, waitMs: number, fallback: () => T | undefined): SingleFlight<T> {
  let inflight: Promise<T> | undefined;
  let startedAt = 0;

  /** The running load, unless it has outlived the bound. */
  function live(): Promise<T> | undefined {
    return inflight !== undefined && clock.now() - startedAt < waitMs ? inflight : undefined;
  }

  function wait(load: Promise<T>, orElse: () => T | undefined, atMostMs = waitMs): Promise<T> {
    let cancel: (() => void) | undefined;
    const bound = new Promise<T>((resolve, reject) => {
      cancel = clock.after(Math.min(atMostMs, waitMs), () => {
        const value = orElse();
        if (value !== undefined) resolve(value);
        else reject(new VerifierError('jwks_unavailable'));
      });
    });
    return Promise.race([load, bound]).finally(() => cancel?.());
  }

  return {
    get running() {
      return live() !== undefined;
    },
    run(start) {
      const running = live();
      if (running) return wait(running, fallback);
      const load = start().finally(() => {
        if (inflight === load) inflight = undefined;
      });
      inflight = load;
      startedAt = clock.now();
      return load;
    },
    wait(orElse, atMostMs) {
      const running = live();
      return running ? wait(running, orElse, atMostMs) : Promise.reject(new VerifierError('jwks_unavailable'));
    },
  };
}
