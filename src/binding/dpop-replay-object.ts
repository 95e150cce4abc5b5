import { DurableObject } from 'cloudflare:workers';

/** Least time between two sweeps of expired records. */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * The `DPOP_REPLAY` Durable Object: one shard of the network-wide record of DPoP proofs seen.
 * A proof is remembered until its window ends (`until`), so a replay is refused whichever data
 * centre it reaches. Storage calls hold the object's input gate, so two requests for one proof
 * cannot both find it new. An alarm drops what has expired.
 */
export class DpopReplay extends DurableObject {
  /** `true` the first time `key` is seen before `until`; `now` is the caller's clock, the one the window was measured on. */
  async firstUse(key: string, now: number, until: number): Promise<boolean> {
    const seen = await this.ctx.storage.get<number>(key);
    if (seen !== undefined && seen > now) return false;
    await this.ctx.storage.put(key, until);
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(Math.max(until, now + SWEEP_INTERVAL_MS));
    return true;
  }

  /**
   * Drops expired records, at most once per `SWEEP_INTERVAL_MS`: `firstUse` compares with the
   * caller's clock anyway, so an expired record left a while longer is harmless, and a sweep per
   * expiry would list every record again for each one that expires.
   */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const expired: string[] = [];
    let remaining = false;
    for (const [key, until] of await this.ctx.storage.list<number>()) {
      if (until <= now) expired.push(key);
      else remaining = true;
    }
    for (let i = 0; i < expired.length; i += 128) await this.ctx.storage.delete(expired.slice(i, i + 128));
    if (remaining) await this.ctx.storage.setAlarm(now + SWEEP_INTERVAL_MS);
  }
}
