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
  /** Durable Object storage latency, drawn evenly from this range for each read and write. */
  readonly storageMs: readonly [number, number];
  /** Throws for the first half of this window, never answers for the second. */
  readonly outage?: { readonly from: number; readonly to: number } | undefined;
  readonly random: () => number;
}

/** Calls each data centre made, by simulated time. */
export type CoordinatorCalls = readonly (readonly number[])[];

/** The round trip from `dc` to the coordinator's data centre, 0: evenly from near to far, whole milliseconds. */
export function roundTripMs(dc: number, dcs: number, nearMs: number, farMs: number): number {
  return Math.round(nearMs + ((farMs - nearMs) * dc) / Math.max(1, dcs - 1));
}

export function createWorldCoordinator(
  scheduler: Scheduler,
  options: WorldCoordinatorOptions,
): { at(dc: number): SimKeySetCoordinator; readonly calls: CoordinatorCalls } {
  const { clock } = scheduler;
  const storageDelay = () => {
    const [low, high] = options.storageMs;
    return scheduler.sleep(Math.round(low + (high - low) * options.random()));
  };
  let stored: unknown;
  let cancelAlarm: (() => void) | undefined;
  const deps: SimCoordinatorDeps = {
    clock,
    log: options.log,
    storage: {
      get: async () => {
        await storageDelay();
        return stored === undefined ? undefined : structuredClone(stored);
      },
      put: async (state) => {
        await storageDelay();
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
  const calls: number[][] = Array.from({ length: options.dcs }, () => []);
  const { outage } = options;
  const wrappers = Array.from({ length: options.dcs }, (_, dc): SimKeySetCoordinator => {
    const half = roundTripMs(dc, options.dcs, options.nearMs, options.farMs) / 2;
    return {
      async keySet(request) {
        const at = scheduler.elapsed();
        (calls[dc] as number[]).push(at);
        if (outage && at >= outage.from && at < outage.to) {
          await scheduler.sleep(half);
          if (at < (outage.from + outage.to) / 2) throw new Error('coordinator failed');
          return new Promise<never>(() => {});
        }
        await scheduler.sleep(half);
        const answer = await coordinator.keySet(structuredClone(request));
        await scheduler.sleep(half);
        return structuredClone(answer);
      },
    };
  });
  return { at: (dc) => wrappers[dc] as SimKeySetCoordinator, calls };
}
