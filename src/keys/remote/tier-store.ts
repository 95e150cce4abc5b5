import type { Logger } from '../../observe/log.ts';
import type { JwksRecord } from './record.ts';

/** A shared cache tier below isolate memory. Failures are the tier's to swallow: a cache is never required. */
export interface TierStore {
  readonly name: string;
  get(key: string): Promise<JwksRecord | undefined>;
  /** `keepSeconds` is how long the record is worth keeping (TTL plus the stale-if-error window). */
  put(key: string, record: JwksRecord, keepSeconds: number): Promise<void>;
}

/**
 * A logger for the tiers that keeps one line per event, tier and op per `intervalMs`: while a
 * tier is down, every lookup that reaches it fails the same way, and a line per request would
 * say nothing new. The next line kept says how many were dropped since (`repeated`).
 */
export function oncePerCause(log: Logger, now: () => number, intervalMs: number): Logger {
  const lastLogged = new Map<string, { at: number; dropped: number }>();
  return (event, fields = {}) => {
    const cause = `${event} ${String(fields.tier)} ${String(fields.op)}`;
    const last = lastLogged.get(cause);
    const at = now();
    if (last && at - last.at < intervalMs) {
      last.dropped++;
      return;
    }
    lastLogged.set(cause, { at, dropped: 0 });
    log(event, last?.dropped ? { ...fields, repeated: last.dropped } : fields);
  };
}
