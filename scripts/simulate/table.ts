/** The printed result: one table of every row, then each target of the issue, met or not, from the rows. */
import { FLOOD_PER_SECOND } from './scenarios.ts';
import type { Row } from './simulate.ts';

const count = (value: number) => value.toLocaleString('en-US');
const ms = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(1));

const COLUMNS: readonly (readonly [string, (row: Row) => string])[] = [
  ['scenario', (row) => row.scenario],
  ['coordinator', (row) => (row.coordinator ? 'with' : 'without')],
  ['requests', (row) => count(row.requests)],
  ['issuer fetches', (row) => count(row.issuerFetches)],
  ['max per cooldown', (row) => count(row.issuerFetchesPerCooldown)],
  ['max per minute', (row) => count(row.issuerFetchesPerMinute)],
  ['coordinator calls max/DC/s', (row) => (row.coordinator ? count(row.coordinatorCallsPerDcSecond) : '—')],
  ['KV writes max/key/s', (row) => count(row.kvWritesPerKeySecond)],
  ['KV writes', (row) => count(row.kvWrites)],
  ['KV 429s', (row) => count(row.kvWritesRefused)],
  ['valid refused', (row) => count(row.validRefused)],
  ['waited on fetch', (row) => count(row.waitedOnFetch)],
  ['p50 ms', (row) => ms(row.p50Ms)],
  ['p99 ms', (row) => ms(row.p99Ms)],
  ['p99.9 ms', (row) => ms(row.p999Ms)],
  [
    'new-kid window p50/p99/max ms',
    (row) =>
      row.newKidWindowMs ? `${row.newKidWindowMs.p50}/${row.newKidWindowMs.p99}/${row.newKidWindowMs.max}` : '—',
  ],
];

/** A Markdown table, the text columns left-aligned and the numbers right-aligned. */
export function formatTable(rows: readonly Row[]): string {
  const cells = rows.map((row) => COLUMNS.map(([, cell]) => cell(row)));
  const widths = COLUMNS.map(([title], i) =>
    Math.max(title.length, ...cells.map((line) => (line[i] as string).length)),
  );
  const textColumns = 2;
  const line = (values: readonly string[]) =>
    `| ${values.map((value, i) => (i < textColumns ? value.padEnd(widths[i] as number) : value.padStart(widths[i] as number))).join(' | ')} |`;
  const rule = `|${widths.map((width, i) => (i < textColumns ? `${'-'.repeat(width + 1)}-` : `${'-'.repeat(width + 1)}:`)).join('|')}|`;
  return [line(COLUMNS.map(([title]) => title)), rule, ...cells.map(line)].join('\n');
}

export interface Target {
  readonly claim: string;
  /** `undefined`: the rows it needs were not run. */
  readonly met: boolean | undefined;
  readonly evidence: string;
}

export interface Size {
  readonly dcs: number;
  readonly isolates: number;
}

function label(row: Row): string {
  return `${row.scenario} ${row.coordinator ? 'with' : 'without'}`;
}

/** Whether every row meets `check`, with the rows that do not named. */
function everyRow(
  claim: string,
  rows: readonly Row[],
  check: (row: Row) => boolean,
  shown: (row: Row) => string,
): Target {
  if (rows.length === 0) return { claim, met: undefined, evidence: 'not measured in this run' };
  const failing = rows.filter((row) => !check(row));
  const listed = (failing.length > 0 ? failing : rows).map((row) => `${label(row)}: ${shown(row)}`).join('; ');
  return { claim, met: failing.length === 0, evidence: failing.length > 0 ? `not in ${listed}` : listed };
}

export function targets(rows: readonly Row[], size: Size): Target[] {
  const of = (scenario: Row['scenario'], coordinator?: boolean) =>
    rows.filter((row) => row.scenario === scenario && (coordinator === undefined || row.coordinator === coordinator));
  const atSize =
    size.dcs === 300 && size.isolates === 20 ? '' : ` (run at ${size.dcs} × ${size.isolates}: ≤ ${size.dcs})`;
  const perCooldown = (row: Row) => `${count(row.issuerFetchesPerCooldown)} within 30 s`;
  return [
    everyRow(
      `Rotation without pre-publish, 300 DCs × 20 isolates, without the coordinator: issuer fetches within one cooldown ≤ 300${atSize}`,
      of('rotation-at-once', false),
      (row) => row.issuerFetchesPerCooldown <= size.dcs,
      perCooldown,
    ),
    everyRow(
      'Rotation without pre-publish, with the coordinator: issuer fetches within one cooldown ≤ 1',
      of('rotation-at-once', true),
      (row) => row.issuerFetchesPerCooldown <= 1,
      perCooldown,
    ),
    everyRow(
      'KV writes ≤ 1 per second per key in every scenario',
      rows,
      (row) => row.kvWritesPerKeySecond <= 1,
      (row) => `${count(row.kvWritesPerKeySecond)}/s`,
    ),
    everyRow(
      'KV writes ≤ 1 per key-set change with the coordinator',
      rows.filter((row) => row.coordinator),
      (row) => row.kvWrites <= row.keySetChanges,
      (row) => `${count(row.kvWrites)} writes, ${count(row.keySetChanges)} changes`,
    ),
    everyRow(
      '0 valid tokens refused in both rotation scenarios and through the outage',
      [...of('rotation-at-once'), ...of('rotation-pre-published'), ...of('outage')],
      (row) => row.validRefused === 0,
      (row) => `${count(row.validRefused)} refused`,
    ),
    everyRow(
      'Unannounced rotation inside a cooldown, with the coordinator: 0 valid tokens refused; the new kid accepted in every data centre within p99 ≤ 2 s, max ≤ 3 s of its first use there',
      of('rotation-unannounced', true),
      (row) =>
        row.validRefused === 0 &&
        (row.newKidWindowMs?.p99 ?? Infinity) <= 2_000 &&
        (row.newKidWindowMs?.max ?? Infinity) <= 3_000,
      (row) =>
        `${count(row.validRefused)} refused, window p99 ${row.newKidWindowMs?.p99 ?? '—'} ms, max ${row.newKidWindowMs?.max ?? '—'} ms`,
    ),
    everyRow(
      `A flood of ${count(FLOOD_PER_SECOND)} made-up kids a second, with the coordinator: ≤ 60 issuer fetches per minute`,
      of('random-kid-flood', true),
      (row) => row.issuerFetchesPerMinute <= 60,
      (row) => `${count(row.issuerFetchesPerMinute)} per minute`,
    ),
    everyRow(
      'Coordinator calls ≤ 1 per second per data centre in every scenario (the flood included)',
      rows.filter((row) => row.coordinator),
      (row) => row.coordinatorCallsPerDcSecond <= 1,
      (row) => `${count(row.coordinatorCallsPerDcSecond)}/DC/s`,
    ),
    everyRow(
      'A coordinator that throws, then stalls, for 5 minutes while a new key appears: 0 valid tokens refused (isolates fall back, bounded by the lease)',
      of('coordinator-outage', true),
      (row) => row.validRefused === 0,
      (row) => `${count(row.validRefused)} refused, window max ${row.newKidWindowMs?.max ?? '—'} ms`,
    ),
    everyRow(
      'Steady state: p99 added latency from key lookup ≤ 1 ms (after warm-up)',
      of('steady'),
      (row) => row.p99Ms <= 1,
      (row) => `p99 ${ms(row.p99Ms)} ms`,
    ),
  ];
}

export function formatTargets(list: readonly Target[]): string {
  const verdict = (met: boolean | undefined) => (met === undefined ? 'NOT MEASURED' : met ? 'met' : 'NOT MET');
  return list.map((target) => `- [${verdict(target.met)}] ${target.claim} — ${target.evidence}`).join('\n');
}
