import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../src/env.ts';
import worker from '../src/index.ts';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { bearer, envWith, incoming, varsFor } from './helpers/worker.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The real KV binding, with every call counted on its way through. */
function countingKv(kv: KVNamespace, calls: string[]): KVNamespace {
  return new Proxy(kv, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(name));
        return value.apply(target, args);
      };
    },
  });
}

describe('the hot path after the first request in an isolate', () => {
  it('reads no KV, no Cache API and imports no key, for unique and repeated tokens', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const issuer = await TestIssuer.create(['RS256', 'ES256']);
    const vars = varsFor(issuer, new TestOrigin());
    const kvCalls: string[] = [];
    const env: Env = { ...envWith(vars), JWKS_CACHE: countingKv(envWith(vars).JWKS_CACHE as KVNamespace, kvCalls) };
    const call = async (token: string) => {
      const ctx = createExecutionContext();
      const response = await worker.fetch(incoming(bearer(token)), env, ctx);
      await waitOnExecutionContext(ctx);
      await response.body?.cancel();
      return response.status;
    };

    // Warm: one token per key, so each key is imported once.
    for (const key of issuer.keys) expect(await call(await issuer.mint({ key }))).toBe(200);
    // One cold read; a request never writes KV (its writer is the coordinator or the cron).
    expect(kvCalls).toEqual(['get']);

    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    const cacheMatch = vi.spyOn(caches.default, 'match');
    const cachePut = vi.spyOn(caches.default, 'put');
    kvCalls.length = 0;
    const repeated = await issuer.mint();
    for (let i = 0; i < 50; i++) {
      expect(await call(await issuer.mint({ key: issuer.keys[i % 2], claims: { jti: String(i) } }))).toBe(200);
      expect(await call(repeated)).toBe(200);
    }
    expect(kvCalls).toEqual([]);
    expect(cacheMatch).not.toHaveBeenCalled();
    expect(cachePut).not.toHaveBeenCalled();
    expect(importKey).not.toHaveBeenCalled();
    expect((await issuer.stats()).jwksFetches).toBe(1);
  });
});
