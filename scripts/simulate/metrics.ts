/** The numbers a run is judged by, from what it recorded. */

/** The most of `times` (ascending) that fall within any `[t, t + widthMs)`. */
export function maxWithinWindow(times: readonly number[], widthMs: number): number {
  let most = 0;
  let first = 0;
  for (let last = 0; last < times.length; last++) {
    while ((times[last] as number) - (times[first] as number) >= widthMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/**
 * Added latencies, most of them exactly 0 (a key from memory): the zeros are counted, the
 * others kept, so that exact percentiles cost memory only for the requests that waited.
 */
export interface LatencyRecorder {
  add(ms: number): void;
  readonly count: number;
  /** The `p`-quantile (0 < p ≤ 1) by the nearest-rank method; 0 with no sample. */
  percentile(p: number): number;
}

export function createLatencyRecorder(): LatencyRecorder {
  let zeros = 0;
  const waited: number[] = [];
  let sorted = true;
  return {
    add(ms) {
      if (ms === 0) zeros++;
      else {
        waited.push(ms);
        sorted = false;
      }
    },
    get count() {
      return zeros + waited.length;
    },
    percentile(p) {
      const count = zeros + waited.length;
      if (count === 0) return 0;
      const rank = Math.ceil(p * count) - 1;
      if (rank < zeros) return 0;
      if (!sorted) {
        waited.sort((a, b) => a - b);
        sorted = true;
      }
      return waited[rank - zeros] as number;
    },
  };
}
