import type { KeySource } from '../keys/remote/issuer-fetch.ts';
import type { JwksRecord } from '../keys/remote/record.ts';

/** What an isolate asks the coordinator of its key source, once its data centre's copy did not help. */
export interface KeySetRequest extends KeySource {
  /** The isolate's cooldown: the coordinator keeps the same one, for every data centre at once. */
  readonly cooldownSeconds: number;
  /** `fetchedAt` of the set the isolate holds (0 with none): only a newer set helps it. */
  readonly heldFetchedAt: number;
  /** The kid a token named that the isolate's set lacks; absent for a refresh past the TTL. */
  readonly kid?: string | undefined;
}

/**
 * The coordinator's set (which may still lack the kid, when the cooldown holds), or the reason
 * it has none: the issuer failed and nothing is stored. Either way the isolate does not go to
 * the issuer itself; only a coordinator that does not answer sends it there.
 */
export type KeySetAnswer = { readonly record: JwksRecord } | { readonly error: string };

/** The one refresher of a key source for every data centre: a Durable Object in production. */
export interface KeySetCoordinator {
  keySet(request: KeySetRequest): Promise<KeySetAnswer>;
}
