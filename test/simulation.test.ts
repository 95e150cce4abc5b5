import { beforeAll, describe, expect, it } from 'vitest';
import { eventLoopYield } from '../scripts/simulate/clock.ts';
import type { CodeUnderTest } from '../scripts/simulate/code-under-test.ts';
import { makePublicKeys } from '../scripts/simulate/issuer.ts';
import { buildScenario, NEW_KID, OLD_KID, SCENARIO_NAMES, type ScenarioName } from '../scripts/simulate/scenarios.ts';
import { SMALL } from '../scripts/simulate/settings.ts';
import { type Row, simulate } from '../scripts/simulate/simulate.ts';
import { COORDINATOR_MIN_REFETCH_MS } from '../src/constants.ts';
import { createCoordinator } from '../src/coordinator/coordinator.ts';
import { createJwksResolver } from '../src/keys/remote/resolver.ts';
import { createKvStore } from '../src/keys/remote/store-kv.ts';

/**
 * The multi-region simulation (scripts/simulate/) at its small size, 6 data centres × 4 isolates,
 * each running the real resolver on one simulated clock, every scenario without and with the
 * coordinator; the bounds the full-size run reports as targets, asserted. workerd's
 * `setImmediate` costs about a millisecond a yield, so the loop yields with `eventLoopYield`.
 */
const code: CodeUnderTest = { createJwksResolver, coordinator: { createCoordinator, createKvStore } };
const isolates = SMALL.dcs * SMALL.isolates;
let keys: Awaited<ReturnType<typeof makePublicKeys>>;
const rows: Row[] = [];

function run(scenario: ScenarioName, coordinator: boolean): Promise<Row> {
  return simulate({
    settings: SMALL,
    scenario: buildScenario(scenario, SMALL),
    coordinator,
    code,
    keys,
    yieldToRuntime: eventLoopYield,
  });
}

function row(scenario: ScenarioName, coordinator: boolean): Row {
  const found = rows.find((r) => r.scenario === scenario && r.coordinator === coordinator);
  if (!found) throw new Error(`no row for ${scenario} ${coordinator ? 'with' : 'without'} the coordinator`);
  return found;
}

beforeAll(async () => {
  keys = await makePublicKeys([OLD_KID, NEW_KID]);
  for (const scenario of SCENARIO_NAMES) {
    for (const coordinator of [false, true]) rows.push(await run(scenario, coordinator));
  }
}, 60_000);

describe(`the simulation, ${SMALL.dcs} data centres × ${SMALL.isolates} isolates`, () => {
  it('settles every request in every run', () => {
    for (const r of rows)
      expect({ scenario: r.scenario, unsettled: r.unsettled }).toEqual({ scenario: r.scenario, unsettled: 0 });
  });

  it('rotation at once without the coordinator: colo-first and the fetch lease keep issuer fetches to one per data centre', () => {
    const { issuerFetchesPerCooldown, tiers } = row('rotation-at-once', false);
    expect(issuerFetchesPerCooldown).toBeLessThan(isolates);
    expect(issuerFetchesPerCooldown).toBe(SMALL.dcs);
    // The isolates that did not fetch took the new set from their data centre's Cache API.
    expect(tiers.cache_api).toBeGreaterThan(0);
  });

  it('rotation at once with the coordinator: exactly one issuer fetch per cooldown', () => {
    const { issuerFetches, issuerFetchesPerCooldown } = row('rotation-at-once', true);
    expect(issuerFetchesPerCooldown).toBe(1);
    expect(issuerFetches).toBe(1);
  });

  it('with the coordinator, KV is written at most once per second per key and once per key-set change', () => {
    for (const r of rows.filter((x) => x.coordinator)) {
      expect({
        scenario: r.scenario,
        perSecond: r.kvWritesPerKeySecond <= 1,
        // While the coordinator fails, the scheduled refresh fetches and writes KV itself.
        perChange: r.scenario === 'coordinator-outage' || r.kvWrites <= r.keySetChanges,
      }).toEqual({
        scenario: r.scenario,
        perSecond: true,
        perChange: true,
      });
    }
  });

  it('without the coordinator, KV is written at most once per second per key, only by the scheduled refresh, a cold start included', () => {
    for (const r of rows.filter((x) => !x.coordinator)) {
      expect({ scenario: r.scenario, atMostOnePerSecond: r.kvWritesPerKeySecond <= 1 }).toEqual({
        scenario: r.scenario,
        atMostOnePerSecond: true,
      });
      expect(r.kvWrites).toBeLessThanOrEqual(r.keySetChanges);
    }
    // Every data centre fetched at the cold start; none of them wrote KV.
    expect(row('cold-start', false).issuerFetches).toBeGreaterThanOrEqual(SMALL.dcs);
  });

  it('KV never answers 429: no key is written twice within a second, in any run', () => {
    for (const r of rows)
      expect({ scenario: r.scenario, refused: r.kvWritesRefused }).toEqual({ scenario: r.scenario, refused: 0 });
  });

  it('the isolates of a data centre call the coordinator at most once a second, the flood included', () => {
    for (const r of rows.filter((x) => x.coordinator)) {
      expect({ scenario: r.scenario, perSecond: r.coordinatorCallsPerDcSecond }).toEqual({
        scenario: r.scenario,
        perSecond: r.coordinatorCallsPerDcSecond > 0 ? 1 : 0,
      });
    }
    expect(row('random-kid-flood', true).coordinatorCallsPerDcSecond).toBe(1);
  });

  it('a flood of made-up kids costs the issuer at most 60 fetches a minute with the coordinator', () => {
    const { issuerFetchesPerMinute, refusals } = row('random-kid-flood', true);
    expect(issuerFetchesPerMinute).toBeGreaterThan(1);
    expect(issuerFetchesPerMinute).toBeLessThanOrEqual(60_000 / COORDINATOR_MIN_REFETCH_MS);
    expect(refusals.unknown_kid).toBeGreaterThan(0);
  });

  it('refuses no valid token in either rotation or through the outage', () => {
    for (const scenario of ['rotation-at-once', 'rotation-pre-published', 'outage'] as const) {
      for (const coordinator of [false, true]) {
        expect({ scenario, coordinator, refused: row(scenario, coordinator).validRefused }).toEqual({
          scenario,
          coordinator,
          refused: 0,
        });
      }
    }
  });

  it('the outage was one: refreshes failed while stale sets were served from memory', () => {
    const without = row('outage', false);
    expect(without.events.jwks_refresh_failed).toBeGreaterThan(0);
    expect(without.tiers).toEqual({ memory: without.requests });
    // A failed fetch is noted in the data centre's fetch lease: its other isolates do not retry it.
    expect(without.issuerFetchesPerCooldown).toBeLessThanOrEqual(SMALL.dcs);
    const withCoordinator = row('outage', true);
    expect(withCoordinator.events.coordinator_fetch_failed).toBeGreaterThan(0);
    // One issuer fetch per cooldown for the whole world, the outage through.
    expect(withCoordinator.issuerFetchesPerCooldown).toBe(1);
  });

  it('a key published one TTL ahead is in every isolate before its first token: nobody waits on a fetch', () => {
    for (const coordinator of [false, true]) expect(row('rotation-pre-published', coordinator).waitedOnFetch).toBe(0);
  });

  // Changed on purpose (a valid new kid must not wait out a whole cooldown): with the coordinator, a
  // kid nobody has seen may cause one issuer fetch per COORDINATOR_MIN_REFETCH_MS for the network.
  it('made-up kids cost at most one issuer fetch per COORDINATOR_MIN_REFETCH_MS with the coordinator', () => {
    const { issuerFetchesPerCooldown, refusals } = row('random-kids', true);
    expect(issuerFetchesPerCooldown).toBeGreaterThan(1);
    expect(issuerFetchesPerCooldown).toBeLessThanOrEqual((SMALL.cooldownSeconds * 1000) / COORDINATOR_MIN_REFETCH_MS);
    expect(refusals.unknown_kid).toBeGreaterThan(0);
  });

  it('an unannounced rotation inside a cooldown refuses no valid token, every data centre accepting the new kid within 2 s', () => {
    for (const coordinator of [false, true]) {
      const { validRefused, newKidWindowMs } = row('rotation-unannounced', coordinator);
      expect({ coordinator, validRefused }).toEqual({ coordinator, validRefused: 0 });
      expect(newKidWindowMs?.dcs).toBe(SMALL.dcs);
      expect(newKidWindowMs?.max).toBeLessThanOrEqual(2_000);
    }
  });

  it('steady state adds at most 1 ms at p99 after the warm-up', () => {
    for (const coordinator of [false, true]) expect(row('steady', coordinator).p99Ms).toBeLessThanOrEqual(1);
  });

  it('is deterministic: the same seed gives the same row', async () => {
    expect(await run('rotation-at-once', false)).toEqual(row('rotation-at-once', false));
  });
});
