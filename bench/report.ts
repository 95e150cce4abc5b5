/** Medians across rounds, the derived figures, the printed table and the JSON result. */
import { mkdir, writeFile } from 'node:fs/promises';
import type { LoadResult } from './load/wrk.ts';
import type { MicroResult } from './micro.ts';
import { RESULTS_DIR } from './paths.ts';
import { RAW_VERIFY } from './plan.ts';
import { SETTINGS } from './settings.ts';

export interface Sample extends LoadResult {
  system: string;
  mode: string;
  /** The measurement this one is compared with (its own no-auth ceiling). */
  ceiling: string;
  round: number;
  cpuUsPerRequest: number;
  peakRssMb: number;
  jwksFetches: number;
  /** Calls to the introspection endpoint during the measurement. */
  introspectionCalls: number;
  /** Share of the machine's CPU time the hypervisor gave elsewhere during the measurement. */
  stealPercent: number;
}

/** One ES256 request to a peer measured with RS256 only: could it have been measured with ES256? */
export interface Es256Probe {
  system: string;
  status: number;
  /** The start of the refusal, when it refused. */
  body?: string;
}

export interface Row {
  key: string;
  system: string;
  mode: string;
  ceiling: string;
  rounds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  ratioToCeiling: number | undefined;
  cpuUsPerRequest: number;
  addedCpuUs: number | undefined;
  peakRssMb: number;
  jwksFetches: number;
  /** Highest over the rounds: a noisy host shows here. */
  stealPercent: number;
  non2xx: number;
  socketErrors: number;
  tokenWraps: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

export function summarize(samples: Sample[]): Row[] {
  const groups = new Map<string, Sample[]>();
  for (const sample of samples) {
    const key = `${sample.system} | ${sample.mode}`;
    groups.set(key, [...(groups.get(key) ?? []), sample]);
  }
  const rows: Row[] = [...groups.entries()].map(([key, group]) => {
    const first = group[0] as Sample;
    return {
      key,
      system: first.system,
      mode: first.mode,
      ceiling: first.ceiling,
      rounds: group.length,
      rps: median(group.map((s) => s.rps)),
      p50Ms: median(group.map((s) => s.p50Ms)),
      p99Ms: median(group.map((s) => s.p99Ms)),
      ratioToCeiling: undefined,
      cpuUsPerRequest: median(group.map((s) => s.cpuUsPerRequest)),
      addedCpuUs: undefined,
      peakRssMb: Math.max(...group.map((s) => s.peakRssMb)),
      jwksFetches: Math.max(...group.map((s) => s.jwksFetches)),
      stealPercent: Math.max(...group.map((s) => s.stealPercent)),
      non2xx: group.reduce((sum, s) => sum + s.non2xx, 0),
      socketErrors: group.reduce((sum, s) => sum + s.socketErrors, 0),
      tokenWraps: group.reduce((sum, s) => sum + s.tokenWraps, 0),
    };
  });
  for (const row of rows) {
    const ceiling = rows.find((r) => r.key === row.ceiling);
    if (ceiling && ceiling !== row) {
      row.ratioToCeiling = row.rps / ceiling.rps;
      row.addedCpuUs = row.cpuUsPerRequest - ceiling.cpuUsPerRequest;
    }
  }
  return rows;
}

export function printTable(
  rows: Row[],
  micro: MicroResult | undefined,
  floorRps: number | undefined,
  probes: Es256Probe[],
  zipfHitRatio?: number,
): void {
  const header = [
    'system | mode',
    'rounds',
    'req/s',
    'p50 ms',
    'p99 ms',
    '÷ ceiling',
    'CPU µs/req',
    '+CPU µs',
    'peak RSS MB',
    'JWKS fetches',
    'steal %',
    'non-2xx',
  ];
  const lines = rows.map((r) => [
    r.key,
    String(r.rounds),
    r.rps.toFixed(0),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    r.ratioToCeiling === undefined ? '—' : r.ratioToCeiling.toFixed(3),
    r.cpuUsPerRequest.toFixed(1),
    r.addedCpuUs === undefined ? '—' : r.addedCpuUs.toFixed(1),
    r.peakRssMb.toFixed(0),
    String(r.jwksFetches),
    r.stealPercent.toFixed(1),
    String(r.non2xx) +
      (r.socketErrors ? ` (${r.socketErrors} socket errors)` : '') +
      (r.tokenWraps ? ` (wrapped ${r.tokenWraps}×)` : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const format = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  console.log(format(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(format(line));
  if (probes.length > 0) {
    console.log('');
    console.log(
      'unique ES256 is measured for edge-verifier only (BENCH_PEER_ES256=1 adds the peers); one ES256 request each:',
    );
    for (const probe of probes) {
      const verdict = probe.status === 200 ? 'accepted (200)' : `n/a: answered ${probe.status} ${probe.body ?? ''}`;
      console.log(`  ${probe.system}: ${verdict}`);
    }
  }
  if (micro) {
    console.log('');
    console.log(
      `raw crypto.subtle.verify in workerd: RS256 ${micro.rawVerifyUs.RS256.toFixed(1)} µs, ES256 ${micro.rawVerifyUs.ES256.toFixed(1)} µs`,
    );
    for (const kind of ['lazy', 'collected'] as const) {
      const m = micro.memory[kind];
      const how = kind === 'lazy' ? "V8's default heap sizing" : 'a full GC before each reading';
      console.log(
        `workerd memory over ${m.tokens} unique RS256 tokens through authenticate(), fresh process, ${how}: ` +
          `${m.baselineMb.toFixed(0)} MB after warm-up, peak ${m.peakMb.toFixed(0)} MB (+${(m.peakMb - m.baselineMb).toFixed(0)} MB), ` +
          `${m.endMb.toFixed(0)} MB at the end`,
      );
    }
    console.log(
      `edge-verifier authenticate(): unique RS256 ${micro.pathUniqueUs.RS256.toFixed(1)} µs, unique ES256 ${micro.pathUniqueUs.ES256.toFixed(1)} µs, repeated ${micro.pathRepeatedUs.toFixed(1)} µs`,
    );
  }
  const b = rows.find((r) => r.key === 'B edge-verifier | unique RS256');
  const ofB = (floor: number) => (b ? `; B unique RS256 = ${(b.rps / floor).toFixed(3)} × that` : '');
  if (floorRps !== undefined) {
    console.log(
      `crypto floor for unique RS256 = 1 / (1/R_A + t_raw_verify) = ${floorRps.toFixed(0)} req/s${ofB(floorRps)}`,
    );
  }
  for (const alg of ['RS256', 'ES256'] as const) {
    const v = rows.find((r) => r.key === RAW_VERIFY[alg]);
    const bAlg = rows.find((r) => r.key === `B edge-verifier | unique ${alg}`);
    if (!v) continue;
    const p99 = bAlg ? `, p99 ${(bAlg.p99Ms / v.p99Ms).toFixed(2)} × V's` : '';
    console.log(
      `crypto floor measured under load (system V, ${alg}) = ${v.rps.toFixed(0)} req/s` +
        (bAlg ? `; B unique ${alg} = ${(bAlg.rps / v.rps).toFixed(3)} × that${p99}` : ''),
    );
  }
  const zipf = rows.find((r) => r.key === 'B edge-verifier | zipf RS256');
  if (zipf?.ratioToCeiling !== undefined) {
    console.log(
      `Zipf RS256 (s = ${SETTINGS.zipf.s} over ${SETTINGS.zipf.tokens} tokens): B = ${zipf.ratioToCeiling.toFixed(3)} × A` +
        (zipfHitRatio === undefined ? '' : `, verified-token cache hit ratio ${(zipfHitRatio * 100).toFixed(1)} %`),
    );
  }
}

export async function writeResult(result: unknown): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const path = `${RESULTS_DIR}/latest.json`;
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}
