import { DurableObject } from 'cloudflare:workers';
import { createKvStore } from '../keys/remote/store-kv.ts';
import { consoleLogger } from '../observe/log.ts';
import { systemClock } from '../shared/clock.ts';
import { readBinding } from '../worker/secrets.ts';
import type { CoordinatorCall } from './client.ts';
import { type Coordinator, type CoordinatorState, createCoordinator } from './coordinator.ts';
import type { KeySetAnswer } from './protocol.ts';

const STATE_KEY = 'state';
const KV_BINDING_KEY = 'kvBinding';

/**
 * The `JWKS_COORDINATOR` Durable Object: one per key source, the single refresher of its JWKS for
 * every data centre. A thin shell around `createCoordinator`: its storage holds the set (the source
 * of truth), its alarm refetches before the set goes stale, and it writes KV when the set changes.
 */
export class JwksCoordinator extends DurableObject {
  #coordinator: Coordinator | undefined;
  /** The KV binding named by the last isolate that asked (the same env serves both). */
  #kvBinding: string | undefined;

  #coordinatorFor(): Coordinator {
    this.#coordinator ??= createCoordinator({
      clock: systemClock(),
      log: consoleLogger,
      storage: {
        get: () => this.ctx.storage.get<CoordinatorState>(STATE_KEY),
        put: (state) => this.ctx.storage.put(STATE_KEY, state),
      },
      kv: {
        put: async (key, record, keepSeconds) => {
          const kv = this.#kvBinding ? readBinding(this.env, this.#kvBinding) : undefined;
          if (kv) await createKvStore(kv as KVNamespace, consoleLogger, systemClock()).put(key, record, keepSeconds);
        },
      },
      wakeAt: (at) => this.ctx.storage.setAlarm(at),
    });
    return this.#coordinator;
  }

  async keySet(call: CoordinatorCall): Promise<KeySetAnswer> {
    if (call.kvBinding !== this.#kvBinding) {
      this.#kvBinding = call.kvBinding;
      await this.ctx.storage.put(KV_BINDING_KEY, call.kvBinding);
    }
    const { kvBinding: _, ...request } = call;
    return this.#coordinatorFor().keySet(request);
  }

  override async alarm(): Promise<void> {
    this.#kvBinding ??= await this.ctx.storage.get<string>(KV_BINDING_KEY);
    await this.#coordinatorFor().wake();
  }
}
