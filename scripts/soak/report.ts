/** The soak's printed summary, and the list of what went wrong. */
import type { Problems } from './check.ts';
import type { Sent } from './client.ts';
import type { PeakRss } from './dev-worker.ts';
import { EXPECTED, type Kind } from './mix.ts';
import type { RotationMarks } from './rotation.ts';

export interface Totals {
  readonly requests: number;
  readonly concurrency: number;
  readonly byKind: ReadonlyMap<Kind, number>;
  readonly wrongByKind: ReadonlyMap<Kind, number>;
  readonly validByKey: { readonly old: number; readonly next: number; readonly fresh: number };
  readonly byMethod: ReadonlyMap<string, number>;
  readonly byStatus: ReadonlyMap<string, number>;
  readonly spoofed: number;
  readonly bodyBytes: number;
  readonly largestBodyBytes: number;
  readonly marks: RotationMarks;
  readonly jwksFetches: number;
  readonly discoveryFetches: number;
  readonly latencyMs: { readonly all: Float64Array; readonly valid: Float64Array; readonly refused: Float64Array };
  /** The request that took longest, as "kind METHOD of n bytes". */
  readonly slowest: { readonly ms: number; readonly what: string } | undefined;
  readonly peakRss: { readonly worker?: PeakRss; readonly proxy?: PeakRss };
  readonly seconds: { readonly total: number; readonly load: number };
  readonly mismatches: number;
}

const KINDS: readonly Kind[] = [
  'valid',
  'expired',
  'forged',
  'unknown_kid',
  'malformed_token',
  'malformed_authorization',
  'retired',
];

const count = (n: number) => n.toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const at = (index: number | undefined) => (index === undefined ? '?' : `#${count(index)}`);

function percentile(sorted: Float64Array, p: number): string {
  if (sorted.length === 0) return 'n/a';
  return `${(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number).toFixed(1)} ms`;
}

function latency(values: Float64Array): string {
  const sorted = values.slice().sort();
  return `p50 ${percentile(sorted, 50)}, p99 ${percentile(sorted, 99)}`;
}

export function summary(t: Totals): string {
  const rows = KINDS.map((kind) => {
    const expected = EXPECTED[kind];
    const answer = expected.code ? `${expected.status} ${expected.code}` : `${expected.status}, at the origin once`;
    return `  ${kind.padEnd(24)}${count(t.byKind.get(kind) ?? 0).padStart(8)}  ${answer.padEnd(28)}${count(t.wrongByKind.get(kind) ?? 0).padStart(6)}`;
  });
  const withdrawPickup =
    t.marks.withdrawPickupMs === undefined ? '?' : `${(t.marks.withdrawPickupMs / 1000).toFixed(1)} s`;
  const rss = t.peakRss.worker ? `${mb(t.peakRss.worker.bytes)} (workerd pid ${t.peakRss.worker.pid}, VmHWM)` : 'n/a';
  const proxy = t.peakRss.proxy ? `; wrangler's dev proxy (workerd) ${mb(t.peakRss.proxy.bytes)}` : '';
  const list = (map: ReadonlyMap<string, number>) =>
    [...map]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, n]) => `${key} ${count(n)}`)
      .join(', ');
  return [
    `soak: ${count(t.requests)} requests, ${t.concurrency} concurrent clients, ${t.seconds.load.toFixed(1)} s of load (${count(Math.round(t.requests / t.seconds.load))} req/s), ${t.seconds.total.toFixed(1)} s in all`,
    `  ${'kind'.padEnd(24)}${'sent'.padStart(8)}  ${'expected'.padEnd(28)}${'wrong'.padStart(6)}`,
    ...rows,
    `  valid tokens: old key ${count(t.validByKey.old)}, new key ${count(t.validByKey.next)}; ${count(t.validByKey.fresh)} minted for one request`,
    `  methods: ${list(t.byMethod)}; request bodies ${mb(t.bodyBytes)} in all, largest ${mb(t.largestBodyBytes)}; client-sent X-Auth-* on ${count(t.spoofed)}`,
    `  statuses: ${list(t.byStatus)}`,
    `  rotation: new key published at ${at(t.marks.published)}, signing from ${at(t.marks.bothFrom)}; old key unused from ${at(t.marks.drainFrom)}, withdrawn at ${at(t.marks.withdrawn)}, refused from ${at(t.marks.nextFrom)} (the Worker fetched the new set ${withdrawPickup} later); ${count(t.marks.held)} requests held at a phase gate`,
    `  issuer JWKS fetches: ${count(t.jwksFetches)} (discovery ${count(t.discoveryFetches)})`,
    `  latency: ${latency(t.latencyMs.all)} (all); valid ${latency(t.latencyMs.valid)}; refused ${latency(t.latencyMs.refused)}; slowest ${t.slowest ? `${(t.slowest.ms / 1000).toFixed(1)} s (${t.slowest.what})` : 'n/a'}`,
    `  Worker peak RSS: ${rss}${proxy}`,
    `  mismatches: ${count(t.mismatches)}`,
  ].join('\n');
}

/** Mismatched requests printed in full, per kind; the table's counts cover all of them. */
const PRINTED_PER_KIND = 4;

/** A request in a few words: its kind (and malformation), method and body size. */
export function describe(request: Sent): string {
  const variant = request.credentials.variant ? ` (${request.credentials.variant})` : '';
  return `${request.kind}${variant}, ${request.method} of ${count(request.bodyBytes)} bytes`;
}

export function mismatchList(problems: Problems, sent: readonly Sent[]): string {
  const byId = new Map(sent.map((request) => [request.id, request]));
  const printed = new Map<string, number>();
  const lines = [`\nmismatched requests (at most ${PRINTED_PER_KIND} of each kind):`];
  for (const [id, found] of problems) {
    const request = byId.get(id);
    const kind = request?.kind ?? 'other';
    const shown = printed.get(kind) ?? 0;
    if (shown >= PRINTED_PER_KIND) continue;
    printed.set(kind, shown + 1);
    lines.push(`  ${id} [${request ? describe(request) : kind}]: ${found.join('; ')}`);
  }
  return lines.join('\n');
}
