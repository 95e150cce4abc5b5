/**
 * What the verified-token cache buys under Zipf traffic: edge-verifier's own cache
 * (src/auth/token-cache.ts, its real size) run over a Zipf stream like the one wrk sends
 * (bench/load/tokens.lua), counting the requests it answers without a signature check.
 */
import { createVerifiedTokenCache } from '../src/auth/token-cache.ts';
import { VERIFIED_TOKEN_CACHE_MAX_ENTRIES } from '../src/constants.ts';

/** A small seeded generator (mulberry32), so the ratio is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function zipfCacheHitRatio(requests: number, tokens: readonly string[], s: number): number {
  const cdf = new Float64Array(tokens.length);
  let total = 0;
  for (let k = 0; k < tokens.length; k++) cdf[k] = total += 1 / (k + 1) ** s;
  const next = random(1);
  const cache = createVerifiedTokenCache(VERIFIED_TOKEN_CACHE_MAX_ENTRIES);
  const payload = { exp: Number.MAX_SAFE_INTEGER / 1000 };
  let hits = 0;
  for (let i = 0; i < requests; i++) {
    const u = next() * total;
    let low = 0;
    let high = tokens.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((cdf[mid] as number) < u) low = mid + 1;
      else high = mid;
    }
    const token = tokens[low] as string;
    if (cache.get(token, 0, 'set')) hits++;
    else cache.set(token, payload, 'set');
  }
  return hits / requests;
}
