import type { JwksRecord } from './record.ts';

/** A shared cache tier below isolate memory. Failures are the tier's to swallow: a cache is never required. */
export interface TierStore {
  readonly name: string;
  get(key: string): Promise<JwksRecord | undefined>;
  /** `keepSeconds` is how long the record is worth keeping (TTL plus the stale-if-error window). */
  put(key: string, record: JwksRecord, keepSeconds: number): Promise<void>;
}
