import { DurableObject } from 'cloudflare:workers';

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
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(until);
    return true;
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    const entries = await this.ctx.storage.list<number>();
    const expired = [...entries].filter(([, until]) => until <= now).map(([key]) => key);
    for (let i = 0; i < expired.length; i += 128) await this.ctx.storage.delete(expired.slice(i, i + 128));
    const next = Math.min(...[...entries].filter(([, until]) => until > now).map(([, until]) => until));
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(next);
  }
}
