/**
 * The shared tiers as the stores see them (src/keys/remote/store-cache-api.ts, store-kv.ts): exactly the
 * methods those call, with simulated latency. One Cache API per data centre; one KV for the
 * world, eventually consistent, with every write counted per key and refused (429) past one a
 * second per key.
 */
import type { Scheduler } from './clock.ts';
import { inMemoryResponse } from './response.ts';

/** What store-cache-api.ts calls on `Cache` (the harness casts it to `Cache`). */
export interface SimCache {
  match(request: Request | string): Promise<Response | undefined>;
  put(request: Request | string, response: Response): Promise<void>;
}

/** What store-kv.ts calls on `KVNamespace`, as one data centre sees it (cast to `KVNamespace`). */
export interface SimKvView {
  get(key: string, type?: 'text' | 'json'): Promise<unknown>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
}

export interface SimKv {
  /** KV as data centre `dc` sees it. */
  at(dc: number): SimKvView;
  /** Elapsed milliseconds of every write tried, per key (refused ones too). */
  readonly writes: ReadonlyMap<string, readonly number[]>;
  /** Writes refused with a 429: less than `KV_WRITE_INTERVAL_MS` after the last one KV took for that key. */
  readonly refused: number;
}

/** KV takes at most one write per second per key, and answers 429 past that (KV limits). */
export const KV_WRITE_INTERVAL_MS = 1_000;

export interface KvTiming {
  /** A write is visible at its own data centre at once, elsewhere after this. */
  readonly propagationMs: number;
  readonly hotReadMs: number;
  readonly coldReadMs: number;
  /** A read is hot when its data centre read the same key this recently. */
  readonly hotWindowMs: number;
  readonly writeMs: number;
}

const keyOf = (request: Request | string) => (typeof request === 'string' ? request : request.url);

/** RFC 9111 §5.2.2.1, as the Cache API honours it. */
function maxAgeSeconds(cacheControl: string | null): number {
  const match = /(?:^|,)\s*max-age\s*=\s*(\d+)/i.exec(cacheControl ?? '');
  return match ? Number(match[1]) : 0;
}

/** One data centre's Cache API: `latencyMs` per match or put, entries kept for their max-age. */
export function createSimCache(scheduler: Scheduler, latencyMs: number): SimCache {
  const entries = new Map<
    string,
    { readonly text: string; readonly headers: Record<string, string>; expiresAt: number }
  >();
  return {
    async match(request) {
      await scheduler.sleep(latencyMs);
      const entry = entries.get(keyOf(request));
      if (!entry || entry.expiresAt <= scheduler.elapsed()) return undefined;
      return inMemoryResponse(entry.text, { headers: entry.headers });
    },
    async put(request, response) {
      const key = keyOf(request);
      // The code under simulation built this Response: reading its body is real-async in workerd.
      const text = await scheduler.hold(response.text());
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const keepMs = maxAgeSeconds(response.headers.get('cache-control')) * 1000;
      await scheduler.sleep(latencyMs);
      if (keepMs > 0) entries.set(key, { text, headers, expiresAt: scheduler.elapsed() + keepMs });
    },
  };
}

/** The value kept under `key`, made and kept first when there is none. */
function kept<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

interface KvWrite {
  readonly at: number;
  readonly dc: number;
  readonly value: string;
  readonly expiresAt: number;
}

export function createSimKv(scheduler: Scheduler, timing: KvTiming): SimKv {
  /** Per key, in write order; a write every data centre sees supersedes the ones before it. */
  const history = new Map<string, KvWrite[]>();
  const writes = new Map<string, number[]>();
  /** Per key, when KV last took a write. */
  const lastTaken = new Map<string, number>();
  let refused = 0;
  /** Per data centre, when it last read each key (hot or cold). */
  const lastReadAt = new Map<number, Map<string, number>>();

  function visible(key: string, dc: number, at: number): KvWrite | undefined {
    const list = history.get(key);
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const write = list[i] as KvWrite;
      if (write.dc === dc ? write.at <= at : write.at + timing.propagationMs <= at) return write;
    }
    return undefined;
  }

  function record(key: string, write: KvWrite): void {
    const list = kept(history, key, (): KvWrite[] => []);
    list.push(write);
    // Keep only what some data centre may still read: from the newest write seen everywhere on.
    let seenEverywhere = -1;
    for (let i = list.length - 1; i >= 0; i--) {
      if ((list[i] as KvWrite).at + timing.propagationMs <= write.at) {
        seenEverywhere = i;
        break;
      }
    }
    if (seenEverywhere > 0) list.splice(0, seenEverywhere);
  }

  return {
    writes,
    get refused() {
      return refused;
    },
    at(dc) {
      const readsHere = kept(lastReadAt, dc, () => new Map<string, number>());
      return {
        async get(key, type = 'text') {
          const last = readsHere.get(key);
          const start = scheduler.elapsed();
          readsHere.set(key, start);
          const hot = last !== undefined && start - last < timing.hotWindowMs;
          await scheduler.sleep(hot ? timing.hotReadMs : timing.coldReadMs);
          const write = visible(key, dc, scheduler.elapsed());
          if (!write || write.expiresAt <= scheduler.elapsed()) return null;
          return type === 'json' ? JSON.parse(write.value) : write.value;
        },
        async put(key, value, options = {}) {
          const at = scheduler.elapsed();
          kept(writes, key, (): number[] => []).push(at);
          const last = lastTaken.get(key);
          if (last !== undefined && at - last < KV_WRITE_INTERVAL_MS) {
            refused++;
            await scheduler.sleep(timing.writeMs);
            throw new Error('KV PUT failed: 429 Too Many Requests');
          }
          lastTaken.set(key, at);
          const ttlMs = options.expirationTtl === undefined ? Number.POSITIVE_INFINITY : options.expirationTtl * 1000;
          record(key, { at, dc, value, expiresAt: at + ttlMs });
          await scheduler.sleep(timing.writeMs);
        },
      };
    },
  };
}
