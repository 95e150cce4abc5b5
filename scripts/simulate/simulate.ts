/**
 * One scenario, with or without the coordinator: its world built (world.ts), the traffic sent
 * through it on the simulated clock, and the row of numbers it comes to.
 */
import type { JWK } from 'jose';
import type { Logger } from '../../src/observe/log.ts';
import { createScheduler, type YieldToRuntime } from './clock.ts';
import type { CodeUnderTest, KeyDecision, SimResolver } from './code-under-test.ts';
import { createLatencyRecorder, maxWithinWindow } from './metrics.ts';
import { holdRealAsync } from './real-async.ts';
import type { Scenario, ScenarioName } from './scenarios.ts';
import type { SimSettings } from './settings.ts';
import { createTraffic } from './traffic.ts';
import { buildWorld, type DataCentre } from './world.ts';

/** Simulated time starts here, the same on every run. */
const START_EPOCH_MS = Date.UTC(2026, 0, 1);
/** Past its end, a run waits this long at most for requests still open; any left then never settle. */
const GRACE_MS = 60_000;

export interface Row {
  readonly scenario: ScenarioName;
  readonly coordinator: boolean;
  /** Requests that arrived after the warm-up: the ones the latency, "waited" and tier columns count. */
  readonly requests: number;
  /** Issuer fetches after the warm-up, every answer counted (503s too). */
  readonly issuerFetches: number;
  /** The most issuer fetches within any one cooldown (any 30 s by default), after the warm-up. */
  readonly issuerFetchesPerCooldown: number;
  /** The most issuer fetches within any one minute, after the warm-up. */
  readonly issuerFetchesPerMinute: number;
  /** The most coordinator calls one data centre made within any one second, after the warm-up. */
  readonly coordinatorCallsPerDcSecond: number;
  /** The most KV writes of one key within any one second, after the warm-up. */
  readonly kvWritesPerKeySecond: number;
  readonly kvWrites: number;
  /** KV writes refused with a 429 (past one a second per key), the whole run. */
  readonly kvWritesRefused: number;
  /** Key sets the issuer started serving after the warm-up (the first one too with no warm-up). */
  readonly keySetChanges: number;
  /** Requests whose kid the issuer had published when they arrived, refused all the same: the whole run. */
  readonly validRefused: number;
  /** Requests whose key came from the coordinator or the issuer, after the warm-up. */
  readonly waitedOnFetch: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** Requests that had not settled when the run ended (a hang in the code under simulation). */
  readonly unsettled: number;
  /**
   * With a watched kid: over the data centres that saw it, the time from its first use there to
   * its first acceptance there (the wait of a request that was answered after a fetch counts).
   */
  readonly newKidWindowMs?: { readonly p50: number; readonly p99: number; readonly max: number; readonly dcs: number };
  /** Where keys came from (`decision.keyTier`), after the warm-up. */
  readonly tiers: Readonly<Record<string, number>>;
  /** Refusals by error code, the whole run. */
  readonly refusals: Readonly<Record<string, number>>;
  /** Log lines of the code under simulation by event (the coordinator's `jwks_fetched` apart). */
  readonly events: Readonly<Record<string, number>>;
}

export interface SimulateOptions {
  readonly settings: SimSettings;
  readonly scenario: Scenario;
  readonly coordinator: boolean;
  readonly code: CodeUnderTest;
  /** The issuer's public keys by kid (`makePublicKeys`), made once for every run. */
  readonly keys: ReadonlyMap<string, JWK>;
  readonly yieldToRuntime?: YieldToRuntime;
}

function increment(counts: Map<string, number>, name: string): void {
  counts.set(name, (counts.get(name) ?? 0) + 1);
}

export async function simulate(options: SimulateOptions): Promise<Row> {
  const { settings, scenario } = options;
  const scheduler = createScheduler(START_EPOCH_MS, options.yieldToRuntime);
  const restore = holdRealAsync(scheduler);
  try {
    const events = new Map<string, number>();
    const log: Logger = (event, fields) => increment(events, fields?.by ? `${event} (${String(fields.by)})` : event);
    let background = 0;
    const track = (work: Promise<unknown>) => {
      background++;
      work.then(
        () => background--,
        () => {
          background--;
          increment(events, 'background work rejected');
        },
      );
    };

    const { issuer, kv, dcs, coordinatorCalls } = buildWorld(scheduler, { ...options, log, track });

    const warmupMs = scenario.warmupMs ?? settings.warmupSeconds * 1000;
    const latency = createLatencyRecorder();
    const tiers = new Map<string, number>();
    const refusals = new Map<string, number>();
    let open = 0;
    let validRefused = 0;
    let waitedOnFetch = 0;
    const firstUse = new Map<number, number>();
    const firstAccept = new Map<number, number>();

    function settled(at: number, valid: boolean, refusal: string | undefined, tier: string | undefined): void {
      open--;
      if (refusal !== undefined) {
        increment(refusals, refusal);
        if (valid) validRefused++;
      }
      if (at < warmupMs) return;
      latency.add(scheduler.elapsed() - at);
      if (tier !== undefined) increment(tiers, tier);
      if (tier === 'coordinator' || tier === 'issuer') waitedOnFetch++;
    }

    const traffic = createTraffic(
      {
        ...settings,
        ratePerSecond: scenario.ratePerSecond ?? settings.ratePerSecond,
        randomKidShare: scenario.randomKidShare,
      },
      settings.seed,
    );
    /** The arrivals' own time, in fractions of a millisecond; each is run at the clock's next whole one. */
    let arrivalAt = traffic.gapMs();
    function arrive(): void {
      const at = scheduler.elapsed();
      const arrival = traffic.next();
      const kid = arrival.randomKid ?? scenario.kidOf(arrival.token, at);
      const valid = arrival.randomKid === undefined && issuer.published(kid, at);
      const dc = dcs[arrival.dc] as DataCentre;
      const resolver = dc.isolates[arrival.isolate] as SimResolver;
      const decision: KeyDecision = { keyTier: undefined, kid: undefined };
      open++;
      const watched = kid === scenario.watchedKid;
      if (watched && !firstUse.has(arrival.dc)) firstUse.set(arrival.dc, at);
      resolver.getKeys({ alg: 'ES256', kid }, dc.io as never, decision as never).then(
        () => {
          if (watched && !firstAccept.has(arrival.dc)) firstAccept.set(arrival.dc, scheduler.elapsed());
          settled(at, valid, undefined, decision.keyTier);
        },
        (error: unknown) => settled(at, valid, String((error as { code?: unknown }).code ?? error), undefined),
      );
      arrivalAt += traffic.gapMs();
      if (arrivalAt < scenario.durationMs) scheduler.at(arrivalAt, arrive);
    }
    scheduler.at(arrivalAt, arrive);
    for (const kickAt of scenario.kicks ?? []) {
      scheduler.at(kickAt, () => {
        const dc = dcs[0] as DataCentre;
        open++;
        const kick: KeyDecision = { keyTier: undefined, kid: undefined };
        (dc.isolates[0] as SimResolver)
          .getKeys({ alg: 'ES256', kid: 'made-up-kick' }, dc.io as never, kick as never)
          .then(
            () => settled(kickAt, false, undefined, undefined),
            (error: unknown) => settled(kickAt, false, String((error as { code?: unknown }).code ?? error), undefined),
          );
      });
    }
    // The cron: one invocation per schedule for the whole Worker, on an isolate of some data
    // centre (a different one each time, picked by a fixed stride so runs stay deterministic).
    let crons = 0;
    function cron(): void {
      const slot = (crons++ * 7_919) % (dcs.length * settings.isolates);
      const dc = dcs[Math.floor(slot / settings.isolates)] as DataCentre;
      track((dc.isolates[slot % settings.isolates] as SimResolver).refresh(dc.io as never));
      const next = scheduler.elapsed() + settings.cronSeconds * 1000;
      if (next < scenario.durationMs) scheduler.at(next, cron);
    }
    if (settings.cronSeconds > 0) scheduler.at(settings.cronSeconds * 1000, cron);
    // The clock reaches the end even when nothing else is due then.
    scheduler.at(scenario.durationMs, () => {});
    await scheduler.run(
      () =>
        scheduler.elapsed() >= scenario.durationMs + GRACE_MS ||
        (scheduler.elapsed() >= scenario.durationMs && open === 0 && background === 0),
    );

    const after = (times: readonly number[]) => times.filter((at) => at >= warmupMs);
    const fetches = after(issuer.fetches);
    const kvWrites = [...kv.writes.values()].map(after);
    return {
      scenario: scenario.name,
      coordinator: options.coordinator,
      requests: latency.count,
      issuerFetches: fetches.length,
      issuerFetchesPerCooldown: maxWithinWindow(fetches, settings.cooldownSeconds * 1000),
      issuerFetchesPerMinute: maxWithinWindow(fetches, 60_000),
      coordinatorCallsPerDcSecond: Math.max(0, ...coordinatorCalls.map((calls) => maxWithinWindow(after(calls), 1000))),
      kvWritesPerKeySecond: Math.max(0, ...kvWrites.map((times) => maxWithinWindow(times, 1000))),
      kvWrites: kvWrites.reduce((sum, times) => sum + times.length, 0),
      kvWritesRefused: kv.refused,
      keySetChanges: scenario.plan.publications.filter((publication) => publication.at >= warmupMs).length,
      validRefused,
      waitedOnFetch,
      p50Ms: latency.percentile(0.5),
      p99Ms: latency.percentile(0.99),
      p999Ms: latency.percentile(0.999),
      unsettled: open,
      ...(scenario.watchedKid === undefined
        ? {}
        : { newKidWindowMs: windows(firstUse, firstAccept, scenario.durationMs) }),
      tiers: Object.fromEntries(tiers),
      refusals: Object.fromEntries(refusals),
      events: Object.fromEntries(events),
    };
  } finally {
    restore();
  }
}

/** Each data centre's window from first use to first acceptance; one that never accepted counts to the run's end. */
function windows(
  firstUse: ReadonlyMap<number, number>,
  firstAccept: ReadonlyMap<number, number>,
  endMs: number,
): NonNullable<Row['newKidWindowMs']> {
  const sorted = [...firstUse]
    .map(([dc, used]) => Math.round((firstAccept.get(dc) ?? endMs) - used))
    .sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0, dcs: sorted.length };
}
