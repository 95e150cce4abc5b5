/**
 * One coordinator (the decision logic the Durable Object wraps, run as it is) for the whole
 * world, living in data centre 0. Each data centre reaches it through a wrapper that adds its
 * round trip, half each way, and copies requests and answers as RPC would.
 */
import type { Logger } from '../../src/observe/log.ts';
import type { Scheduler } from './clock.ts';
import type { CodeUnderTest, SimCoordinatorDeps, SimKeySetCoordinator } from './code-under-test.ts';
import type { SimKvView } from './tiers.ts';

export interface WorldCoordinatorOptions {
  readonly code: NonNullable<CodeUnderTest['coordinator']>;
  readonly dcs: number;
  readonly nearMs: number;
  readonly farMs: number;
  /** KV as the coordinator's own data centre sees it. */
  readonly kv: SimKvView;
  readonly log: Logger;
  readonly fetch: typeof fetch;
  /** Work that outlives its caller (the alarm's wake-up), as `waitUntil` would hold it. */
  readonly track: (work: Promise<unknown>) => void;
}

/** The round trip from `dc` to the coordinator's data centre, 0: evenly from near to far, whole milliseconds. */
export function roundTripMs(dc: number, dcs: number, nearMs: number, farMs: number): number {
  return Math.round(nearMs + ((farMs - nearMs) * dc) / Math.max(1, dcs - 1));
}

export function createWorldCoordinator(
  scheduler: Scheduler,
  options: WorldCoordinatorOptions,
): { at(dc: number): SimKeySetCoordinator } {
  const { clock } = scheduler;
  let stored: unknown;
  let cancelAlarm: (() => void) | undefined;
  const deps: SimCoordinatorDeps = {
    clock,
    log: options.log,
    storage: {
      get: async () => (stored === undefined ? undefined : structuredClone(stored)),
      put: async (state) => {
        stored = structuredClone(state);
      },
    },
    kv: options.code.createKvStore(options.kv as never, options.log, clock),
    // A Durable Object has one alarm: setting it again replaces it.
    wakeAt(at) {
      cancelAlarm?.();
      cancelAlarm = clock.after(at - clock.now(), () => options.track(coordinator.wake()));
    },
    fetch: options.fetch,
  };
  const coordinator = options.code.createCoordinator(deps as never);
  const wrappers = Array.from({ length: options.dcs }, (_, dc): SimKeySetCoordinator => {
    const half = roundTripMs(dc, options.dcs, options.nearMs, options.farMs) / 2;
    return {
      async keySet(request) {
        await scheduler.sleep(half);
        const answer = await coordinator.keySet(structuredClone(request));
        await scheduler.sleep(half);
        return structuredClone(answer);
      },
    };
  });
  return { at: (dc) => wrappers[dc] as SimKeySetCoordinator };
}
