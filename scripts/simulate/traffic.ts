/**
 * Where requests go and which key signed their token, from seeded generators only, so that the
 * same seed sends the same requests with and without the coordinator.
 */

/** mulberry32: small, fast and good enough for traffic; the same seed gives the same stream. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Draws token ranks 0…n-1 with probability ∝ 1 / (rank + 1)^exponent. */
export function zipfSampler(n: number, exponent: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let rank = 0; rank < n; rank++) cdf[rank] = total += 1 / (rank + 1) ** exponent;
  return () => {
    const u = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((cdf[mid] as number) < u) low = mid + 1;
      else high = mid;
    }
    return low;
  };
}

/**
 * When each token starts carrying the new key's kid: spread evenly over `rampMs` from `useAt`
 * (tokens signed with the old key are replaced as they expire), so the share of requests with
 * the new kid grows from 0 to all over the ramp; at once when `rampMs` is 0.
 */
export function rotationSchedule(tokens: number, useAt: number, rampMs: number, random: () => number): Float64Array {
  const switchAt = new Float64Array(tokens);
  for (let token = 0; token < tokens; token++) switchAt[token] = useAt + random() * rampMs;
  return switchAt;
}

export interface Arrival {
  readonly dc: number;
  readonly isolate: number;
  readonly token: number;
  /** A made-up kid instead of the token's own (no genuine token carries it), or `undefined`. */
  readonly randomKid: string | undefined;
}

export interface TrafficShape {
  readonly ratePerSecond: number;
  readonly dcs: number;
  readonly isolates: number;
  readonly tokens: number;
  readonly zipfExponent: number;
  readonly randomKidShare: number;
}

/** A Poisson stream of requests, each to a random data centre and isolate, with a Zipf-chosen token. */
export function createTraffic(shape: TrafficShape, seed: number): { gapMs(): number; next(): Arrival } {
  const random = seededRandom(seed);
  const token = zipfSampler(shape.tokens, shape.zipfExponent, random);
  let madeUp = 0;
  return {
    gapMs: () => (-Math.log(1 - random()) / shape.ratePerSecond) * 1000,
    next() {
      const dc = Math.floor(random() * shape.dcs);
      const isolate = Math.floor(random() * shape.isolates);
      const randomKid = random() < shape.randomKidShare ? `made-up-${(madeUp++).toString(36)}` : undefined;
      return { dc, isolate, token: token(), randomKid };
    },
  };
}
