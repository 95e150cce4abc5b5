import { sourceKey } from '../keys/remote/issuer-fetch.ts';
import { parseRecord } from '../keys/remote/record.ts';
import type { KeySetAnswer, KeySetCoordinator, KeySetRequest } from './protocol.ts';

/** What an isolate sends the Durable Object: the request, and which KV binding the object writes. */
export interface CoordinatorCall extends KeySetRequest {
  /** The KV binding the isolate reads (the object, with the same env, writes it when the set changes). */
  readonly kvBinding: string;
}

/** The `JWKS_COORDINATOR` binding as the isolate uses it: a namespace whose objects answer `keySet` over RPC. */
export interface CoordinatorNamespace {
  idFromName(name: string): DurableObjectId;
  get(id: DurableObjectId): { keySet(call: CoordinatorCall): Promise<unknown> };
}

/**
 * The isolate's side of the coordinator: one object per key source (`idFromName` of its JWKS
 * URI), so every data centre asking for one source reaches the same object. The answer crossed a
 * process boundary: its record is checked before it is trusted.
 */
export function coordinatorClient(namespace: CoordinatorNamespace, kvBinding: string): KeySetCoordinator {
  return {
    async keySet(request) {
      const stub = namespace.get(namespace.idFromName(sourceKey(request)));
      return parseAnswer(await stub.keySet({ ...request, kvBinding }));
    },
  };
}

export function parseAnswer(value: unknown): KeySetAnswer {
  const answer = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof answer.error === 'string') return { error: answer.error };
  const record = parseRecord(answer.record);
  if (!record) throw new Error('coordinator answered without a key set');
  return { record };
}
