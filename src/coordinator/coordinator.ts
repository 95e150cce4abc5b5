import { COORDINATOR_IDLE_AFTER_MS, COORDINATOR_MIN_REFETCH_MS, UNKNOWN_KID_WAIT_MAX_MS } from '../constants.ts';
import { fetchRecord, sourceKey } from '../keys/remote/issuer-fetch.ts';
import type { JwksRecord } from '../keys/remote/record.ts';
import { freshness, intervalPassed, keepSeconds, namesKid } from '../keys/remote/refresh-policy.ts';
import type { TierStore } from '../keys/remote/tier-store.ts';
import type { Logger } from '../observe/log.ts';
import { type Clock, sleep } from '../shared/clock.ts';
import type { KeySetAnswer, KeySetRequest } from './protocol.ts';

/** What the coordinator keeps across restarts: the set, and what it needs to refetch it alone (the alarm). */
export interface CoordinatorState {
  readonly record: JwksRecord;
  readonly request: KeySetRequest;
  readonly lastFetchAt: number;
  /** When a caller last asked: the wake-up stops refetching once nobody has for `COORDINATOR_IDLE_AFTER_MS`. */
  readonly askedAt: number;
}

export interface CoordinatorDeps {
  readonly clock: Clock;
  readonly log: Logger;
  /** Its own storage, the source of truth for its key source (Durable Object storage in production). */
  readonly storage: {
    get(): Promise<CoordinatorState | undefined>;
    put(state: CoordinatorState): Promise<void>;
  };
  /** The KV tier, written only when the set changes. */
  readonly kv?: Pick<TierStore, 'put'> | undefined;
  /** Asks to be woken at this epoch millisecond (a Durable Object alarm), to refetch before the set goes stale. */
  readonly wakeAt?: (at: number) => Promise<void> | void;
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
}

export interface Coordinator {
  keySet(request: KeySetRequest): Promise<KeySetAnswer>;
  /** The wake-up asked for with `wakeAt`: refetch if anyone still asks for this source. */
  wake(): Promise<void>;
}

/**
 * The decision logic of one key source's coordinator, for every data centre at once: answer from
 * the stored set when it is newer than the caller's and has what the caller lacks; otherwise fetch
 * from the issuer, at most once per cooldown, one fetch shared by every caller waiting on it.
 * The Durable Object wraps this module, and the multi-region simulation runs it as it is.
 */
export function createCoordinator(deps: CoordinatorDeps): Coordinator {
  const { clock, log } = deps;
  let state: CoordinatorState | undefined;
  let restored: Promise<void> | undefined;
  let inflight: Promise<KeySetAnswer> | undefined;
  /** Also kept for a fetch that failed with nothing stored: a down issuer is asked once per cooldown, not once per caller. */
  let lastFetchAt = Number.NEGATIVE_INFINITY;
  /** Kids asked about that the stored set lacked, and when each was first asked. */
  const absentKids = new Map<string, number>();

  async function current(): Promise<CoordinatorState | undefined> {
    restored ??= deps.storage.get().then((stored) => {
      if (!state && stored) {
        state = stored;
        lastFetchAt = Math.max(lastFetchAt, stored.lastFetchAt);
      }
    });
    await restored;
    return state;
  }

  /** Whether the stored set answers the request without a fetch: newer than the caller's, and what it lacks. */
  function answers(record: JwksRecord, request: KeySetRequest): boolean {
    if (record.fetchedAt <= request.heldFetchedAt) return false;
    const age = freshness(record, clock.now());
    return request.kid === undefined ? age === 'fresh' : age !== 'expired' && namesKid(record, request.kid);
  }

  async function fetchNow(request: KeySetRequest, previous: CoordinatorState | undefined): Promise<KeySetAnswer> {
    lastFetchAt = clock.now();
    let record: JwksRecord;
    try {
      record = await fetchRecord(
        request,
        { now: clock.now, log, ...(deps.fetch ? { fetch: deps.fetch } : {}) },
        request.jwksUri ? undefined : previous?.record.jwksUri,
      );
    } catch (error) {
      log('coordinator_fetch_failed', { issuer: request.issuer, reason: String(error), servingStored: !!previous });
      // Try again after the cooldown even if no caller asks: the stored set is going stale.
      if (previous) await deps.wakeAt?.(lastFetchAt + request.cooldownSeconds * 1000);
      return previous ? { record: previous.record } : { error: String(error) };
    }
    const changed = record.hash !== previous?.record.hash;
    log('jwks_fetched', { jwksUri: record.jwksUri, keys: record.keys.length, changed, by: 'coordinator' });
    state = { record, request, lastFetchAt, askedAt: previous?.askedAt ?? lastFetchAt };
    await deps.storage.put(state);
    if (changed) await deps.kv?.put(sourceKey(request), record, keepSeconds(record));
    await deps.wakeAt?.(record.fetchedAt + record.ttlSeconds * 1000);
    return { record };
  }

  /**
   * How long until a fetch for this request is allowed: a kid nobody has seen may cause one every
   * `COORDINATOR_MIN_REFETCH_MS` for the whole network; a refresh past the TTL, every cooldown.
   */
  function untilAllowed(request: KeySetRequest): number {
    const interval = request.kid === undefined ? request.cooldownSeconds * 1000 : COORDINATOR_MIN_REFETCH_MS;
    return Math.max(0, lastFetchAt + interval - clock.now());
  }

  /** A kid already looked for in a set fetched after it was first asked about: made up, or not yet published. */
  function knownAbsent(stored: CoordinatorState | undefined, kid: string | undefined): boolean {
    if (stored === undefined || kid === undefined) return false;
    const firstAsked = absentKids.get(kid);
    return firstAsked !== undefined && stored.record.fetchedAt >= firstAsked && !namesKid(stored.record, kid);
  }

  function noteAskedKid(kid: string | undefined): void {
    if (kid === undefined || kid.length > ABSENT_KID_MAX_LENGTH || absentKids.has(kid)) return;
    // Bounded: a flood of made-up kids forgets the oldest, which only costs them a wait.
    if (absentKids.size >= ABSENT_KIDS_MAX) absentKids.delete(absentKids.keys().next().value as string);
    absentKids.set(kid, clock.now());
  }

  async function answer(request: KeySetRequest): Promise<KeySetAnswer> {
    let stored = await current();
    if (stored && answers(stored.record, request)) return { record: stored.record };
    // Asked again within the interval after a fetch that lacked it: "not in the set", at once.
    if (knownAbsent(stored, request.kid) && untilAllowed(request) > 0)
      return { record: (stored as CoordinatorState).record };
    noteAskedKid(request.kid);
    if (inflight) return inflight;
    const wait = untilAllowed(request);
    if (wait > 0) {
      // An interval about to end: wait for the one fetch it allows rather than answer without the kid.
      if (request.kid === undefined || wait > UNKNOWN_KID_WAIT_MAX_MS) {
        return stored ? { record: stored.record } : { error: 'issuer unavailable (cooldown)' };
      }
      await sleep(clock, wait);
      stored = await current();
      if (stored && answers(stored.record, request)) return { record: stored.record };
      if (inflight) return inflight;
      if (untilAllowed(request) > 0) return stored ? { record: stored.record } : { error: 'issuer unavailable' };
    }
    const fetching = fetchNow(request, stored).finally(() => {
      if (inflight === fetching) inflight = undefined;
    });
    inflight = fetching;
    return fetching;
  }

  /** When a caller last asked, persisted at most once per `ASKED_AT_WRITE_INTERVAL_MS`: it decides whether the wake-up refetches. */
  async function noteAsked(): Promise<void> {
    const now = clock.now();
    if (state && intervalPassed(state.askedAt, now, ASKED_AT_WRITE_INTERVAL_MS)) {
      state = { ...state, askedAt: now };
      await deps.storage.put(state);
    }
  }

  return {
    async keySet(request) {
      const answered = await answer(request);
      await noteAsked();
      return answered;
    },
    async wake() {
      const stored = await current();
      // Nobody asked for a long time: let the set lapse rather than fetch for no one forever.
      if (!stored || intervalPassed(stored.askedAt, clock.now(), COORDINATOR_IDLE_AFTER_MS)) return;
      await answer({ ...stored.request, kid: undefined, heldFetchedAt: stored.record.fetchedAt });
    },
  };
}

/** Bounds the coordinator's own storage writes for bookkeeping. */
const ASKED_AT_WRITE_INTERVAL_MS = 60_000;

/** Kids remembered as absent; with ABSENT_KID_MAX_LENGTH, at most a few MB of the object's memory. */
const ABSENT_KIDS_MAX = 10_000;

/**
 * A kid comes from an unverified header: a longer one is never remembered (it only loses the
 * at-once answer and waits like any kid; fetches stay bounded by the interval).
 */
const ABSENT_KID_MAX_LENGTH = 256;
