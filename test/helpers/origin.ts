import { inject } from 'vitest';

export interface Echo {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[]>;
  bodyBytes: number;
  bodySha256: string;
}

/** A private path on the loopback echo origin, with its own hit counter. */
export class TestOrigin {
  readonly id = `o${crypto.randomUUID().slice(0, 12)}`;
  readonly url = `${inject('originUrl')}/${this.id}`;

  async hits(): Promise<number> {
    return (await this.stats()).hits;
  }

  /** Requests to this path whose client (the Worker) gave up before the answer. */
  async aborted(): Promise<number> {
    return (await this.stats()).aborted;
  }

  private async stats(): Promise<{ hits: number; aborted: number }> {
    return (await fetch(`${inject('originUrl')}/__stats/${this.id}`)).json();
  }

  async release(): Promise<void> {
    await fetch(`${inject('originUrl')}/__release/${this.id}`);
  }
}
