import type { Clock } from '../../src/shared/clock.ts';

/** A clock that moves only when told, running the timers that come due as it does. */
export function manualClock(start = Date.now()): Clock & { advance(ms: number): void } {
  let now = start;
  let timers: { at: number; task: () => void }[] = [];
  return {
    now: () => now,
    after(ms, task) {
      const timer = { at: now + ms, task };
      timers.push(timer);
      return () => {
        timers = timers.filter((t) => t !== timer);
      };
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.task();
    },
  };
}
