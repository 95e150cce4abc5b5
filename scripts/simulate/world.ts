/**
 * The world one run drives: the issuer, one KV, and per data centre its Cache API, its way to the
 * coordinator (when there is one) and one resolver per isolate, all with the same options.
 */
import type { JWK } from 'jose';
import type { Logger } from '../../src/observe/log.ts';
import type { Scheduler } from './clock.ts';
import type { CodeUnderTest, SimIo, SimResolver } from './code-under-test.ts';
import { type CoordinatorCalls, createWorldCoordinator } from './coordinator.ts';
import { createSimIssuer, type SimIssuer } from './issuer.ts';
import type { Scenario } from './scenarios.ts';
import type { SimSettings } from './settings.ts';
import { createSimCache, createSimKv, type SimKv } from './tiers.ts';
import { seededRandom } from './traffic.ts';

export const SIM_ISSUER = 'https://issuer.sim.example/';
export const SIM_JWKS_URI = 'https://issuer.sim.example/jwks';

export interface DataCentre {
  /** The bindings every request in this data centre gets (its `ResolverIo`). */
  readonly io: SimIo;
  readonly isolates: readonly SimResolver[];
}

export interface World {
  readonly issuer: SimIssuer;
  readonly kv: SimKv;
  readonly dcs: readonly DataCentre[];
  /** Calls to the coordinator by data centre (none without one). */
  readonly coordinatorCalls: CoordinatorCalls;
}

export interface WorldOptions {
  readonly settings: SimSettings;
  readonly scenario: Scenario;
  readonly code: CodeUnderTest;
  readonly keys: ReadonlyMap<string, JWK>;
  readonly coordinator: boolean;
  readonly log: Logger;
  /** Where `waitUntil` work and the coordinator's wake-ups go, to be waited for at the end. */
  readonly track: (work: Promise<unknown>) => void;
}

export function buildWorld(scheduler: Scheduler, options: WorldOptions): World {
  const { settings, code, log, track } = options;
  const { latencies } = settings;
  const { clock } = scheduler;
  const coordinatorCode = options.coordinator ? code.coordinator : undefined;
  if (options.coordinator && !coordinatorCode) throw new TypeError('this code has no coordinator to run with');

  const issuer = createSimIssuer(scheduler, {
    jwksUri: SIM_JWKS_URI,
    latencyMs: latencies.issuerMs,
    maxAgeSeconds: settings.issuerMaxAgeSeconds,
    keys: options.keys,
    plan: options.scenario.plan,
  });
  const fetch = issuer.fetch as typeof globalThis.fetch;
  const kv = createSimKv(scheduler, {
    propagationMs: settings.kvDelaySeconds * 1000,
    hotReadMs: latencies.kvHotMs,
    coldReadMs: latencies.kvColdMs,
    hotWindowMs: latencies.kvHotWindowMs,
    writeMs: latencies.kvWriteMs,
  });
  const coordinator =
    coordinatorCode &&
    createWorldCoordinator(scheduler, {
      code: coordinatorCode,
      dcs: settings.dcs,
      nearMs: latencies.coordinatorNearMs,
      farMs: latencies.coordinatorFarMs,
      kv: kv.at(0),
      log,
      fetch,
      track,
      storageMs: [latencies.coordinatorStorageMinMs, latencies.coordinatorStorageMaxMs],
      outage: options.scenario.coordinatorOutage,
      random: seededRandom(settings.seed + 3),
    });
  const dcs = Array.from(
    { length: settings.dcs },
    (_, dc): DataCentre => ({
      io: {
        kv: kv.at(dc),
        cache: createSimCache(scheduler, latencies.cacheApiMs),
        ...(coordinator ? { coordinator: coordinator.at(dc) } : {}),
        waitUntil: track,
      },
      isolates: Array.from({ length: settings.isolates }, () =>
        code.createJwksResolver({
          issuer: SIM_ISSUER,
          jwksUri: SIM_JWKS_URI,
          ttlSeconds: settings.ttlSeconds,
          cooldownSeconds: settings.cooldownSeconds,
          clock,
          now: clock.now,
          log,
          fetch,
        }),
      ),
    }),
  );
  return { issuer, kv, dcs, coordinatorCalls: coordinator?.calls ?? [] };
}
