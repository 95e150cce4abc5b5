import type { JWK } from 'jose';

/** What the Cache API and KV tiers hold for one key source. */
export interface JwksRecord {
  /** The URL the keys were fetched from (discovered or configured). */
  readonly jwksUri: string;
  /** Usable public keys only, already filtered by `parseJwks`. */
  readonly keys: readonly JWK[];
  /** Epoch milliseconds of the issuer fetch; age decides fresh, stale or expired. */
  readonly fetchedAt: number;
  /** Freshness after `fetchedAt`, already bounded by config and the issuer's max-age. */
  readonly ttlSeconds: number;
  /** SHA-256 of the keys, to tell whether a refetch changed the set. */
  readonly hash: string;
}

/** Stored data crossed a process boundary: check it before trusting its shape. */
export function parseRecord(value: unknown): JwksRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Partial<JwksRecord>;
  if (
    typeof record.jwksUri !== 'string' ||
    !Array.isArray(record.keys) ||
    typeof record.fetchedAt !== 'number' ||
    typeof record.ttlSeconds !== 'number' ||
    typeof record.hash !== 'string'
  ) {
    return undefined;
  }
  return record as JwksRecord;
}

export async function hashKeys(keys: readonly JWK[]): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify(keys)));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}
