/**
 * The five scenarios of the issue: what the issuer publishes and when, which kid each token
 * carries over time, and how long each runs. Times are elapsed milliseconds since the start.
 */
import type { IssuerPlan } from './issuer.ts';
import type { SimSettings } from './settings.ts';
import { rotationSchedule, seededRandom } from './traffic.ts';

export const SCENARIO_NAMES = [
  'steady',
  'rotation-at-once',
  'rotation-pre-published',
  'random-kids',
  'outage',
  'rotation-unannounced',
  'random-kid-flood',
  'coordinator-outage',
  'cold-start',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** Made-up kids per simulated second in the flood scenario at full size (300 × 20 isolates); smaller runs scale it down. */
export const FLOOD_PER_SECOND = 10_000;

/** The flood at this size: the full size's per isolate. */
export function floodPerSecond(settings: Pick<SimSettings, 'dcs' | 'isolates'>): number {
  return (FLOOD_PER_SECOND * settings.dcs * settings.isolates) / (300 * 20);
}

/** How long the coordinator fails in its outage scenario. */
export const COORDINATOR_OUTAGE_SECONDS = 300;

export const OLD_KID = 'sim-key-1';
export const NEW_KID = 'sim-key-2';

export interface Scenario {
  readonly name: ScenarioName;
  readonly durationMs: number;
  readonly plan: IssuerPlan;
  readonly randomKidShare: number;
  /** The kid of the key that signed `token`, for a request at `at`. */
  kidOf(token: number, at: number): string;
  /** Times of one request with a made-up kid each (it makes a fetch happen just then). */
  readonly kicks?: readonly number[];
  /** A kid whose refusal window each data centre reports: first use there → first acceptance there. */
  readonly watchedKid?: string;
  /** Requests per simulated second, over the settings' own. */
  readonly ratePerSecond?: number;
  /** The warm-up, over the settings' own (0: a cold start, every column counted). */
  readonly warmupMs?: number;
  /** The coordinator throws for the first half of this window and never answers for the second. */
  readonly coordinatorOutage?: { readonly from: number; readonly to: number };
}

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}

export function buildScenario(name: ScenarioName, settings: SimSettings): Scenario {
  const { timeline } = settings;
  const s = 1000;
  const changeAt = timeline.changeAtSeconds * s;
  const tail = timeline.tailSeconds * s;
  const ramp = timeline.rampSeconds * s;
  /** Steady and random-kid runs measure `steadySeconds` after the warm-up: the first TTL refresh falls inside. */
  const steadyMs = (settings.warmupSeconds + timeline.steadySeconds) * s;
  const onlyOldKey: IssuerPlan = { publications: [{ at: 0, kids: [OLD_KID] }], outages: [] };
  const oldKid = () => OLD_KID;
  /** A key nobody announced, published at `publishAt`; every token uses it from then on. */
  const unannouncedKeyAt = (publishAt: number) => ({
    plan: {
      publications: [
        { at: 0, kids: [OLD_KID] },
        { at: publishAt, kids: [OLD_KID, NEW_KID] },
      ],
      outages: [],
    },
    kidOf: (_token: number, at: number) => (at >= publishAt ? NEW_KID : OLD_KID),
    watchedKid: NEW_KID,
  });

  /** The new key published at `changeAt` next to the old one, and signing tokens from `useAt`. */
  function rotation(useAt: number): Pick<Scenario, 'durationMs' | 'plan' | 'kidOf'> {
    const switchAt = rotationSchedule(settings.tokens, useAt, ramp, seededRandom(settings.seed + 1));
    return {
      durationMs: useAt + ramp + tail,
      plan: {
        publications: [
          { at: 0, kids: [OLD_KID] },
          { at: changeAt, kids: [OLD_KID, NEW_KID] },
        ],
        outages: [],
      },
      kidOf: (token, at) => (at >= (switchAt[token] as number) ? NEW_KID : OLD_KID),
    };
  }

  switch (name) {
    case 'steady':
      return { name, durationMs: steadyMs, plan: onlyOldKey, randomKidShare: 0, kidOf: oldKid };
    case 'rotation-at-once':
      return { name, randomKidShare: 0, ...rotation(changeAt) };
    case 'rotation-pre-published':
      return { name, randomKidShare: 0, ...rotation(changeAt + settings.ttlSeconds * s) };
    case 'random-kids':
      return {
        name,
        durationMs: steadyMs,
        plan: onlyOldKey,
        randomKidShare: settings.randomKidShare,
        kidOf: oldKid,
      };
    case 'rotation-unannounced': {
      // A fetch at the change (a made-up kid makes one), then a key nobody announced, published at
      // a random moment inside the cooldown that fetch started, every token using it at once.
      const publishAt = changeAt + Math.floor(seededRandom(settings.seed + 2)() * settings.cooldownSeconds * s);
      return {
        name,
        durationMs: publishAt + tail,
        ...unannouncedKeyAt(publishAt),
        randomKidShare: 0,
        kicks: [changeAt],
      };
    }
    case 'random-kid-flood': {
      // 10,000 requests a second with made-up kids (at full size) on top of the usual traffic.
      const flood = floodPerSecond(settings);
      const rate = settings.ratePerSecond + flood;
      return {
        name,
        // Two minutes after the warm-up: the flood's cost per minute shows, the run stays short.
        durationMs: (settings.warmupSeconds + 120) * s,
        plan: onlyOldKey,
        ratePerSecond: rate,
        randomKidShare: flood / rate,
        kidOf: oldKid,
      };
    }
    case 'coordinator-outage': {
      // Five minutes of a coordinator that throws, then stalls; a key nobody announced in the middle.
      const outage = { from: changeAt, to: changeAt + COORDINATOR_OUTAGE_SECONDS * s };
      const publishAt = changeAt + (COORDINATOR_OUTAGE_SECONDS / 5) * s;
      return {
        name,
        durationMs: outage.to + tail,
        ...unannouncedKeyAt(publishAt),
        randomKidShare: 0,
        coordinatorOutage: outage,
      };
    }
    case 'cold-start':
      // A first deploy: nothing anywhere, every column counted from the first request.
      return {
        name,
        durationMs: 4 * settings.cooldownSeconds * s,
        plan: onlyOldKey,
        randomKidShare: 0,
        kidOf: oldKid,
        warmupMs: 0,
      };
    case 'outage':
      return {
        name,
        durationMs: changeAt + timeline.outageSeconds * s + tail,
        plan: {
          publications: onlyOldKey.publications,
          outages: [{ from: changeAt, to: changeAt + timeline.outageSeconds * s }],
        },
        randomKidShare: 0,
        kidOf: oldKid,
      };
  }
}
