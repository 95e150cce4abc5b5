/**
 * Time as the key cache sees it: the wall clock in production, a simulated one in the
 * multi-region simulation, where thousands of isolates must wait on one clock without sleeping.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `task` once `ms` have passed; the returned function cancels it. */
  after(ms: number, task: () => void): () => void;
}

/** The runtime's own timers, with `now` (default `Date.now`) as the time. */
export function systemClock(now: () => number = Date.now): Clock {
  return {
    now,
    after(ms, task) {
      const timer = setTimeout(task, ms);
      return () => clearTimeout(timer);
    },
  };
}

/** `work`, or a rejection once `ms` have passed on `clock`: a tier that does not answer is a failed read, not a stuck request. */
export function within<T>(work: Promise<T>, ms: number, clock: Clock): Promise<T> {
  let cancel: (() => void) | undefined;
  const timeout = new Promise<never>((_, reject) => {
    cancel = clock.after(ms, () => reject(new Error(`no answer within ${ms} ms`)));
  });
  return Promise.race([work, timeout]).finally(() => cancel?.());
}

/** A promise that settles once `ms` have passed on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.after(ms, resolve));
}
