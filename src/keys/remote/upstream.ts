import { COORDINATOR_MIN_REFETCH_MS, COORDINATOR_TIMEOUT_MS } from '../../constants.ts';
import type { KeySetRequest } from '../../coordinator/protocol.ts';
import type { Logger } from '../../observe/log.ts';
import type { Clock } from '../../shared/clock.ts';
import { within } from '../../shared/clock.ts';
import { fetchRecord, type KeySource } from './issuer-fetch.ts';
import { KeySourceError } from './key-source-error.ts';
import type { JwksRecord } from './record.ts';
import type { ResolverIo } from './shared-tiers.ts';

export interface UpstreamDeps {
  readonly source: KeySource;
  readonly cooldownSeconds: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** For the tiers and the coordinator: one that is down is logged once per cooldown, not per request. */
  readonly tierLog: Logger;
  readonly fetch?: typeof fetch;
}

/** Where a set came from past the shared tiers; only an issuer fetch of this isolate's is its to write to KV. */
export interface UpstreamSet {
  readonly record: JwksRecord;
  readonly from: 'coordinator' | 'issuer';
}

/**
 * Past the shared tiers: the coordinator when one is bound (one fetch per cooldown for the
 * whole network), else the issuer. A coordinator that fails or does not answer within
 * `COORDINATOR_TIMEOUT_MS` (plus `COORDINATOR_MIN_REFETCH_MS` for a kid) is skipped for the
 * issuer, as if none were bound; one that answers "the issuer failed" is believed, so an outage
 * is not multiplied by every isolate.
 */
export async function fetchUpstream(
  io: ResolverIo,
  deps: UpstreamDeps,
  held: JwksRecord | undefined,
  kid: string | undefined,
  knownJwksUri: string | undefined,
): Promise<UpstreamSet> {
  if (io.coordinator) {
    // Only data crosses to the object: the source's fields, never the options object it came in.
    const request: KeySetRequest = {
      issuer: deps.source.issuer,
      jwksUri: deps.source.jwksUri,
      ttlSeconds: deps.source.ttlSeconds,
      cooldownSeconds: deps.cooldownSeconds,
      heldFetchedAt: held?.fetchedAt ?? 0,
      kid,
    };
    // For a kid the coordinator may first wait out its refetch interval, then fetch: that wait is
    // not the object being slow, so it is not taken out of the issuer's share of the bound.
    const bound = kid === undefined ? COORDINATOR_TIMEOUT_MS : COORDINATOR_TIMEOUT_MS + COORDINATOR_MIN_REFETCH_MS;
    let answer: Awaited<ReturnType<typeof io.coordinator.keySet>> | undefined;
    try {
      answer = await within(io.coordinator.keySet(request), bound, deps.clock);
    } catch (error) {
      deps.tierLog('jwks_coordinator_unavailable', {
        tier: 'coordinator',
        op: 'keySet',
        issuer: deps.source.issuer,
        error: String(error),
        fallback: 'issuer',
      });
    }
    if (answer && 'record' in answer) return { record: answer.record, from: 'coordinator' };
    if (answer) throw new KeySourceError(`coordinator: ${answer.error}`);
  }
  const record = await fetchRecord(
    deps.source,
    { now: deps.clock.now, log: deps.log, ...(deps.fetch ? { fetch: deps.fetch } : {}) },
    knownJwksUri,
  );
  return { record, from: 'issuer' };
}
