import { env } from 'cloudflare:workers';
import type { Env } from '../../src/env.ts';
import { hashKeys, type JwksRecord, parseRecord } from '../../src/keys/remote/record.ts';
import { cacheApiUrl } from '../../src/keys/remote/store-cache-api.ts';
import { kvKey } from '../../src/keys/remote/store-kv.ts';
import type { TestIssuer } from './issuer.ts';

const kv = () => (env as unknown as Env).JWKS_CACHE as KVNamespace;

/** Reads what the KV tier holds for a JWKS URI, straight from the binding. */
export async function readKv(jwksUri: string): Promise<JwksRecord | undefined> {
  return parseRecord(await kv().get(kvKey(jwksUri), 'json'));
}

/** Reads what the Cache API tier holds for a JWKS URI, straight from `caches.default`. */
export async function readCacheApi(jwksUri: string): Promise<JwksRecord | undefined> {
  const response = await caches.default.match(cacheApiUrl(jwksUri));
  return response ? parseRecord(await response.json()) : undefined;
}

export async function clearTiers(jwksUri: string): Promise<void> {
  await kv().delete(kvKey(jwksUri));
  await caches.default.delete(cacheApiUrl(jwksUri));
}

/** A record of the issuer's current public keys, as another data centre would have written it. */
export async function recordFor(issuer: TestIssuer, fetchedAt = Date.now()): Promise<JwksRecord> {
  const keys = issuer.keys.map((k) => k.publicJwk);
  return { jwksUri: issuer.jwksUri, keys, fetchedAt, ttlSeconds: 600, hash: await hashKeys(keys) };
}

export async function seedKv(record: JwksRecord): Promise<void> {
  await kv().put(kvKey(record.jwksUri), JSON.stringify(record));
}

export async function seedCacheApi(record: JwksRecord): Promise<void> {
  await caches.default.put(
    cacheApiUrl(record.jwksUri),
    new Response(JSON.stringify(record), { headers: { 'cache-control': 'max-age=3600' } }),
  );
}
