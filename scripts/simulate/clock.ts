/**
 * The simulated clock: a queue of (time, seq, task) events run in order, with no real sleep, in
 * whole milliseconds (an event asked for between two is run at the later one).
 * The code under simulation takes all its time and timers from `clock` (src/shared/clock.ts), so
 * thousands of isolates wait on one clock. Between two instants the loop lets async work settle:
 * every microtask, and every real-async operation (`hold`), so that no continuation of an
 * earlier instant runs after the clock has moved on.
 */
import type { Clock } from '../../src/shared/clock.ts';

export interface Scheduler {
  /** The clock handed to the code under simulation. */
  readonly clock: Clock;
  /** Milliseconds since the run started. */
  elapsed(): number;
  /** Runs `task` at `elapsed` milliseconds since the start; the returned function cancels it. */
  at(elapsed: number, task: () => void): () => void;
  /** Resolves once `ms` of simulated time have passed. */
  sleep(ms: number): Promise<void>;
  /**
   * `work` is a real-async operation (it completes on the runtime's own schedule, not as a
   * microtask). What it settles to is handed on only while the loop settles, in the order the
   * operations were started: thread-pool completions in any order give the same run.
   */
  hold<T>(work: Promise<T>): Promise<T>;
  /** Runs events, an instant at a time, until `done()` holds once it has settled, or no event is left. */
  run(done: () => boolean): Promise<void>;
}

/** Yields one macrotask to the runtime: every microtask queued before it has run when it resolves. */
export type YieldToRuntime = () => Promise<void>;

/**
 * `setImmediate` where it exists, else `setTimeout(…, 0)`. In workerd both exist but each costs
 * about 1.2 ms of wall time; test/simulation.test.ts passes `eventLoopYield` there.
 */
export function immediateYield(): YieldToRuntime {
  const immediate = (globalThis as unknown as { setImmediate?: (task: () => void) => unknown }).setImmediate;
  if (immediate) return () => new Promise<void>((resolve) => void immediate(resolve));
  return () => new Promise<void>((resolve) => void setTimeout(resolve, 0));
}

/**
 * For workerd: the read of an empty body, which workerd settles from its event loop, once every
 * microtask has run (about 10 µs; measured to drain a chain of 20,000 awaits). A `MessageChannel`
 * message is no yield there: it arrives before the microtask queue has drained.
 */
export const eventLoopYield: YieldToRuntime = async () => {
  await new Response('').text();
};

interface Event {
  readonly time: number;
  readonly seq: number;
  task: (() => void) | undefined;
}

interface Held {
  readonly work: Promise<unknown>;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

export function createScheduler(startEpochMs: number, yieldToRuntime: YieldToRuntime = immediateYield()): Scheduler {
  const heap: Event[] = [];
  let seq = 0;
  let elapsed = 0;
  let held: Held[] = [];

  const earlier = (a: Event, b: Event) => a.time < b.time || (a.time === b.time && a.seq < b.seq);

  function push(event: Event): void {
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(heap[i] as Event, heap[parent] as Event)) break;
      [heap[i], heap[parent]] = [heap[parent] as Event, heap[i] as Event];
      i = parent;
    }
  }

  function pop(): Event | undefined {
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && earlier(heap[left] as Event, heap[least] as Event)) least = left;
      if (right < heap.length && earlier(heap[right] as Event, heap[least] as Event)) least = right;
      if (least === i) break;
      [heap[i], heap[least]] = [heap[least] as Event, heap[i] as Event];
      i = least;
    }
    return top;
  }

  /** The next event still due (cancelled ones are dropped on the way). */
  function peek(): Event | undefined {
    while (heap.length > 0 && (heap[0] as Event).task === undefined) pop();
    return heap[0];
  }

  function at(time: number, task: () => void): () => void {
    // Whole milliseconds, as `Date.now()` gives in a Worker: two moments a second apart on the
    // clock are never 999.9998 ms apart in the measurements.
    const event: Event = { time: Math.max(Math.ceil(time), elapsed), seq: seq++, task };
    push(event);
    return () => {
      event.task = undefined;
    };
  }

  /** Until nothing is left to run at this instant: microtasks drained, no held operation pending. */
  async function settle(): Promise<void> {
    for (;;) {
      await yieldToRuntime();
      if (held.length === 0) return;
      const batch = held;
      held = [];
      const outcomes = await Promise.allSettled(batch.map((entry) => entry.work));
      batch.forEach((entry, i) => {
        const outcome = outcomes[i] as PromiseSettledResult<unknown>;
        if (outcome.status === 'fulfilled') entry.resolve(outcome.value);
        else entry.reject(outcome.reason);
      });
    }
  }

  const now = () => startEpochMs + elapsed;
  const clock: Clock = {
    now,
    after: (ms, task) => at(elapsed + Math.max(0, ms), task),
  };

  return {
    clock,
    elapsed: () => elapsed,
    at,
    sleep: (ms) => new Promise<void>((resolve) => void at(elapsed + ms, resolve)),
    hold: <T>(work: Promise<T>) =>
      new Promise<T>((resolve, reject) => {
        held.push({ work, resolve: resolve as (value: unknown) => void, reject });
      }),
    async run(done) {
      await settle();
      while (!done()) {
        let event = peek();
        if (event === undefined) return;
        elapsed = event.time;
        // Events of the same instant run back to back; the clock moves only once all is settled.
        while (event !== undefined && event.time === elapsed) {
          pop();
          const task = event.task as () => void;
          event.task = undefined;
          task();
          event = peek();
        }
        await settle();
      }
    },
  };
}
