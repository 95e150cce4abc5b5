/**
 * The key rotation in the middle of the run, driven by how many requests have been sent:
 *
 * 1. `old`: the JWKS holds the old key, tokens are signed with it.
 * 2. At 25 %, the new key is published beside the old one. One refresh cooldown later, tokens
 *    are signed with either key (`both`). By then the Worker either has fetched the new set
 *    (another request's unknown kid made it refetch) or may refetch at once: the first token of
 *    the new key does that itself. Either way no token of the new key may be refused.
 * 3. At 60 %, tokens of the old key stop (`draining`); once every request naming it has been
 *    answered, the JWKS is set to the new key alone. Once the Worker has fetched that set (the
 *    tenant's fetch counter moved), tokens of the old key come back as `retired` ones, which
 *    must now be refused (`next`).
 *
 * A request past 40 % (80 %) is held until step 2 (3) is done, so each phase gets about a fifth
 * of the run or more, however fast it goes; one held request is let through every
 * `HELD_RELEASE_MS`, in the phase of the moment, since the Worker only fetches on a request.
 */
import type { KidUse } from './tokens.ts';

export type Phase = 'old' | 'both' | 'draining' | 'next';

const PUBLISH_AT = 0.25;
const BOTH_BY = 0.4;
const WITHDRAW_AT = 0.6;
const NEXT_BY = 0.8;
const PICKUP_POLL_MS = 50;
const PICKUP_TIMEOUT_MS = 20_000;
/** After the issuer served a set, the time the Worker may take to install it. */
const INSTALL_MARGIN_MS = 250;
const HELD_RELEASE_MS = 200;

export interface RotationMarks {
  /** Request indexes at which each step happened. */
  published?: number;
  bothFrom?: number;
  drainFrom?: number;
  withdrawn?: number;
  nextFrom?: number;
  /** Milliseconds from withdrawing the old key to the Worker having fetched the set without it. */
  withdrawPickupMs?: number;
  /** Requests that were held at a gate. */
  held: number;
}

export interface RotationSteps {
  /** The Worker's JWKS_REFRESH_COOLDOWN_SECONDS. */
  readonly cooldownSeconds: number;
  /** Serves `old` + `next` (true) or `next` alone (false). */
  publish(withOld: boolean): Promise<void>;
  /** The tenant's JWKS fetch counter. */
  jwksFetches(): Promise<number>;
  /** Called once the new key is published, before any token of it is sent. */
  nextKeyReady(): Promise<void>;
}

export interface Rotation {
  phase(): Phase;
  /** The error a step failed with, if one did; every request held at its gate fails with it too. */
  failure(): Error | undefined;
  /** Admits request `index` (0-based, in sending order): starts a step when due, waits at a gate. */
  admit(index: number): Promise<void>;
  /** Brackets each request, so the old key is withdrawn only once nothing in flight names it. */
  started(kid: KidUse): void;
  finished(kid: KidUse): void;
  readonly marks: RotationMarks;
}

export function createRotation(requests: number, steps: RotationSteps): Rotation {
  let phase: Phase = 'old';
  let highest = -1;
  let oldInFlight = 0;
  const marks: RotationMarks = { held: 0 };
  const at = (share: number) => Math.floor(requests * share);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  async function servedToWorker(): Promise<void> {
    const since = Date.now();
    const before = await steps.jwksFetches();
    while ((await steps.jwksFetches()) === before) {
      if (Date.now() - since > PICKUP_TIMEOUT_MS)
        throw new Error(`the Worker did not fetch the new JWKS within ${PICKUP_TIMEOUT_MS / 1000} s`);
      await sleep(PICKUP_POLL_MS);
    }
    await sleep(INSTALL_MARGIN_MS);
  }

  async function introduceNext(): Promise<void> {
    await steps.publish(true);
    const since = Date.now();
    marks.published = highest;
    await steps.nextKeyReady();
    await sleep(since + steps.cooldownSeconds * 1000 + INSTALL_MARGIN_MS - Date.now());
    phase = 'both';
    marks.bothFrom = highest + 1;
  }

  async function withdrawOld(): Promise<void> {
    phase = 'draining';
    marks.drainFrom = highest + 1;
    while (oldInFlight > 0) await sleep(5);
    const since = Date.now();
    await steps.publish(false);
    marks.withdrawn = highest;
    await servedToWorker();
    marks.withdrawPickupMs = Date.now() - since;
    phase = 'next';
    marks.nextFrom = highest + 1;
  }

  const introduced = settledBy();
  const withdrawn = settledBy();
  let lastRelease = 0;

  /** Waits until the step is done, or until this request is the one let through now. */
  async function held(step: ReturnType<typeof settledBy>): Promise<void> {
    if (step.settled()) return step.done;
    marks.held++;
    for (;;) {
      const now = Date.now();
      if (now - lastRelease >= HELD_RELEASE_MS) {
        lastRelease = now;
        return;
      }
      await Promise.race([step.done, sleep(HELD_RELEASE_MS / 4)]);
      if (step.settled()) return step.done;
    }
  }

  return {
    phase: () => phase,
    failure: () => introduced.error() ?? withdrawn.error(),
    async admit(index) {
      if (index >= at(BOTH_BY)) await held(introduced);
      if (index >= at(NEXT_BY)) await held(withdrawn);
      highest = Math.max(highest, index);
      if (index === at(PUBLISH_AT)) introduced.follow(introduceNext());
      if (index === at(WITHDRAW_AT)) withdrawn.follow(introduced.done.then(withdrawOld));
    },
    started(kid) {
      if (kid === 'old') oldInFlight++;
    },
    finished(kid) {
      if (kid === 'old') oldInFlight--;
    },
    marks,
  };
}

/** A promise that a step settles later; its failure is kept, since no request may be waiting for it yet. */
function settledBy(): {
  done: Promise<void>;
  follow(step: Promise<void>): void;
  settled(): boolean;
  error(): Error | undefined;
} {
  let failed: Error | undefined;
  let settled = false;
  let settle: { resolve(): void; reject(error: Error): void } | undefined;
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  done.catch(() => {});
  return {
    done,
    follow(step) {
      step.then(
        () => {
          settled = true;
          settle?.resolve();
        },
        (error: Error) => {
          settled = true;
          failed = error;
          settle?.reject(error);
        },
      );
    },
    settled: () => settled,
    error: () => failed,
  };
}
