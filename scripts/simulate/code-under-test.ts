/**
 * The shapes of the real code the simulation drives, as the harness calls it. The harness takes
 * the factories as arguments instead of importing src/: src is typed for the Workers runtime
 * (KVNamespace), the scripts are type-checked for Node, and `--resolver` swaps in another version.
 * test/simulation.test.ts passes the real factories, so the Workers type check holds src to these.
 * A parameter of a type only src can name (`ResolverIo`, `Decision`, `CoordinatorDeps`) is `never`
 * here: the harness passes its own `SimIo`, `KeyDecision` or `SimCoordinatorDeps`, cast.
 */

import type { Logger } from '../../src/observe/log.ts';
import type { Clock } from '../../src/shared/clock.ts';

/** What `getKeys` fills in (src/observe/decision.ts). */
export interface KeyDecision {
  keyTier: string | undefined;
  kid: string | undefined;
}

/** `ResolverIo` (src/keys/remote/shared-tiers.ts) as the simulation builds it; tiers are cast by the caller's types. */
export interface SimIo {
  readonly kv: unknown;
  readonly cache: unknown;
  readonly coordinator?: SimKeySetCoordinator | undefined;
  waitUntil(promise: Promise<unknown>): void;
}

/** Both generations of the options: `clock` today, `now` before time went through a Clock. */
export interface SimResolverOptions {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly ttlSeconds: number;
  readonly cooldownSeconds: number;
  readonly clock: Clock;
  readonly now: () => number;
  readonly log: Logger;
  readonly fetch: typeof fetch;
}

export interface SimResolver {
  /** `getKeys({ alg, kid }, io: SimIo, decision: KeyDecision)`. */
  getKeys(header: { readonly alg: string; readonly kid: string }, io: never, decision: never): Promise<unknown>;
  /** The scheduled refresh: `refresh(io: SimIo)`. */
  refresh(io: never): Promise<void>;
}

/** `KeySetCoordinator` (src/coordinator/protocol.ts); requests and answers are plain data. */
export interface SimKeySetCoordinator {
  keySet(request: never): Promise<unknown>;
}

/** `CoordinatorDeps` (src/coordinator/coordinator.ts) as the harness builds them. */
export interface SimCoordinatorDeps {
  readonly clock: Clock;
  readonly log: Logger;
  readonly storage: { get(): Promise<unknown>; put(state: unknown): Promise<void> };
  /** What `createKvStore` returned. */
  readonly kv: unknown;
  readonly wakeAt: (at: number) => void;
  readonly fetch: typeof fetch;
}

export interface SimCoordinator {
  keySet(request: never): Promise<unknown>;
  wake(): Promise<void>;
}

export interface CodeUnderTest {
  createJwksResolver(options: SimResolverOptions): SimResolver;
  /** Absent for a resolver from before the coordinator: only "without coordinator" runs then. */
  readonly coordinator?: {
    /** `createCoordinator(deps: SimCoordinatorDeps)`. */
    createCoordinator(deps: never): SimCoordinator;
    /** `createKvStore` (src/keys/remote/store-kv.ts): the coordinator's own KV tier. */
    createKvStore(kv: never, log: Logger, clock: Clock): unknown;
  };
}
