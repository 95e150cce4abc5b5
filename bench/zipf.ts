/**
 * What the verified-token cache buys under Zipf traffic: edge-verifier's own cache
 * (src/token/token-cache.ts, its real size) run over a Zipf stream like the one wrk sends
 * (bench/load/tokens.lua), counting the requests it answers without a signature check.
 */

import { seededRandom, zipfSampler } from '../scripts/simulate/traffic.ts';
import { VERIFIED_TOKEN_CACHE_MAX_ENTRIES } from '../src/constants.ts';
import { createVerifiedTokenCache } from '../src/token/token-cache.ts';

export function zipfCacheHitRatio(requests: number, tokens: readonly string[], s: number): number {
  const rank = zipfSampler(tokens.length, s, seededRandom(1));
  const cache = createVerifiedTokenCache(VERIFIED_TOKEN_CACHE_MAX_ENTRIES);
  const payload = { exp: Number.MAX_SAFE_INTEGER / 1000 };
  let hits = 0;
  for (let i = 0; i < requests; i++) {
    const token = tokens[rank()] as string;
    if (cache.get(token, 0, 'set')) hits++;
    else cache.set(token, payload, 'set');
  }
  return hits / requests;
}
