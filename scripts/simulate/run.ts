/**
 * `npm run simulate [-- --dcs N --isolates M --rate R --scenario NAME --coordinator on|off|both
 * --kv-delay S --seed N --ramp S --warmup S --resolver PATH --events]`: 300 data centres × 20
 * isolates, each running the real key resolver on one simulated clock, through every scenario of
 * `scenarios.ts`, without and with the coordinator. Prints one table, the targets met or not, the
 * wall time and the peak RSS. Progress goes to stderr. The same seed prints the same table.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { CodeUnderTest } from './code-under-test.ts';
import { makePublicKeys } from './issuer.ts';
import { buildScenario, isScenarioName, NEW_KID, OLD_KID, SCENARIO_NAMES, type ScenarioName } from './scenarios.ts';
import { checkSettings, FULL_SIZE, type SimSettings } from './settings.ts';
import { type Row, simulate } from './simulate.ts';
import { formatTable, formatTargets, targets } from './table.ts';

const startedAt = performance.now();
const { values } = parseArgs({
  options: {
    dcs: { type: 'string' },
    isolates: { type: 'string' },
    rate: { type: 'string' },
    scenario: { type: 'string', default: 'all' },
    coordinator: { type: 'string' },
    'kv-delay': { type: 'string' },
    seed: { type: 'string' },
    ramp: { type: 'string' },
    warmup: { type: 'string' },
    resolver: { type: 'string' },
    events: { type: 'boolean', default: false },
  },
});

function usage(message: string): never {
  console.error(`simulate: ${message}`);
  process.exit(2);
}

const numberOr = (raw: string | undefined, fallback: number) => (raw === undefined ? fallback : Number(raw));
let settings: SimSettings;
try {
  settings = checkSettings({
    ...FULL_SIZE,
    dcs: numberOr(values.dcs, FULL_SIZE.dcs),
    isolates: numberOr(values.isolates, FULL_SIZE.isolates),
    ratePerSecond: numberOr(values.rate, FULL_SIZE.ratePerSecond),
    seed: numberOr(values.seed, FULL_SIZE.seed),
    kvDelaySeconds: numberOr(values['kv-delay'], FULL_SIZE.kvDelaySeconds),
    warmupSeconds: numberOr(values.warmup, FULL_SIZE.warmupSeconds),
    timeline: { ...FULL_SIZE.timeline, rampSeconds: numberOr(values.ramp, FULL_SIZE.timeline.rampSeconds) },
  });
} catch (error) {
  usage((error as Error).message);
}

const scenarios: readonly ScenarioName[] =
  values.scenario === 'all'
    ? SCENARIO_NAMES
    : isScenarioName(values.scenario)
      ? [values.scenario]
      : usage(`--scenario must be all or one of ${SCENARIO_NAMES.join(', ')}, not "${values.scenario}"`);

// An older resolver (--resolver) predates the coordinator: it only runs without one.
const coordinatorFlag = values.coordinator ?? (values.resolver ? 'off' : 'both');
const modes: readonly boolean[] =
  coordinatorFlag === 'both'
    ? [false, true]
    : coordinatorFlag === 'on'
      ? [true]
      : coordinatorFlag === 'off'
        ? [false]
        : usage(`--coordinator must be on, off or both, not "${coordinatorFlag}"`);
if (values.resolver && modes.includes(true))
  usage('--resolver loads a resolver without the coordinator: use --coordinator off');

// Loaded at run time: src/ is typed for the Workers runtime, which the scripts are not checked against.
const fromSrc = (path: string) => import(new URL(`../../src/${path}`, import.meta.url).href);
const resolverModule = values.resolver
  ? await import(pathToFileURL(resolve(values.resolver)).href)
  : await fromSrc('keys/remote/resolver.ts');
if (typeof resolverModule.createJwksResolver !== 'function') usage(`${values.resolver} exports no createJwksResolver`);
const code: CodeUnderTest = {
  createJwksResolver: resolverModule.createJwksResolver,
  ...(values.resolver
    ? {}
    : {
        coordinator: {
          createCoordinator: (await fromSrc('coordinator/coordinator.ts')).createCoordinator,
          createKvStore: (await fromSrc('keys/remote/store-kv.ts')).createKvStore,
        },
      }),
};

/**
 * Real timers the code under simulation sets (the harness itself yields with `setImmediate`):
 * one that fires would run at an arbitrary simulated time. Today's resolver sets none; the one
 * before `Clock` bounds tier reads and shared waits with `setTimeout`.
 */
const realTimers = { set: 0, fired: 0 };
const realSetTimeout = globalThis.setTimeout;
globalThis.setTimeout = ((task: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  realTimers.set++;
  return realSetTimeout(
    (...passed: unknown[]) => {
      realTimers.fired++;
      task(...passed);
    },
    ms,
    ...args,
  );
}) as typeof setTimeout;

const keys = await makePublicKeys([OLD_KID, NEW_KID]);
const rows: Row[] = [];
for (const name of scenarios) {
  const scenario = buildScenario(name, settings);
  for (const coordinator of modes) {
    const runStartedAt = performance.now();
    rows.push(await simulate({ settings, scenario, coordinator, code, keys }));
    console.error(
      `${name} ${coordinator ? 'with' : 'without'} coordinator: ${(scenario.durationMs / 60_000).toFixed(0)} simulated min in ${((performance.now() - runStartedAt) / 1000).toFixed(1)} s`,
    );
  }
}
globalThis.setTimeout = realSetTimeout;

const { timeline } = settings;
console.log(
  [
    `edge-verifier simulation: ${settings.dcs} data centres × ${settings.isolates} isolates (${(settings.dcs * settings.isolates).toLocaleString('en-US')} resolvers), ${settings.ratePerSecond.toLocaleString('en-US')} requests per simulated second, seed ${settings.seed}`,
    `resolver: ${values.resolver ?? 'src/keys/remote/resolver.ts'}; TTL ${settings.ttlSeconds} s, cooldown ${settings.cooldownSeconds} s, issuer max-age ${settings.issuerMaxAgeSeconds ?? 'none'}; KV propagation ${settings.kvDelaySeconds} s`,
    `latency: memory 0, Cache API ${settings.latencies.cacheApiMs} ms, KV ${settings.latencies.kvHotMs} ms hot / ${settings.latencies.kvColdMs} ms cold, coordinator ${settings.latencies.coordinatorNearMs}–${settings.latencies.coordinatorFarMs} ms round trip by data centre, issuer ${settings.latencies.issuerMs} ms`,
    `traffic: Poisson arrivals, a uniformly random data centre and isolate each, Zipf (s = ${settings.zipfExponent}) over ${settings.tokens.toLocaleString('en-US')} tokens`,
    `scenarios: steady and random-kids (${settings.randomKidShare * 100} % made-up kids) ${timeline.steadySeconds} s after the warm-up; the change at ${timeline.changeAtSeconds} s: a new key published (used at once, or one TTL later), its tokens replacing the old key's evenly over ${timeline.rampSeconds} s; an outage of ${timeline.outageSeconds} s; ${timeline.tailSeconds} s after the last change`,
    `every column but "valid refused" (the whole run) counts from the end of a ${settings.warmupSeconds} s warm-up; "waited on fetch": the key came from the coordinator or the issuer`,
    '',
    formatTable(rows),
    '',
    'targets:',
    formatTargets(targets(rows, settings)),
    '',
  ].join('\n'),
);
if (values.events) {
  for (const row of rows) {
    console.log(
      `${row.scenario} ${row.coordinator ? 'with' : 'without'}: ${JSON.stringify({ tiers: row.tiers, refusals: row.refusals, events: row.events })}`,
    );
  }
  console.log('');
}
for (const row of rows.filter((r) => r.unsettled > 0))
  console.log(
    `WARNING: ${row.scenario} ${row.coordinator ? 'with' : 'without'}: ${row.unsettled} requests never settled`,
  );
console.log(
  `wall time ${((performance.now() - startedAt) / 1000).toFixed(1)} s; peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB; real timers set by the code under simulation: ${realTimers.set.toLocaleString('en-US')} (fired: ${realTimers.fired.toLocaleString('en-US')})`,
);
