import type { IssuerConfig } from '../../config.ts';
import {
  INTROSPECTION_CACHE_MAX_ENTRIES,
  INTROSPECTION_INACTIVE_CACHE_SECONDS,
  INTROSPECTION_MAX_IN_FLIGHT,
  INTROSPECTION_TIMEOUT_MS,
  INTROSPECTION_UNAVAILABLE_RETRY_AFTER_SECONDS,
  TIER_READ_TIMEOUT_MS,
} from '../../constants.ts';
import { ConfigError, VerifierError } from '../../errors.ts';
import type { Decision } from '../../observe/decision.ts';
import type { Logger } from '../../observe/log.ts';
import { bytesToBase64url } from '../../shared/base64url.ts';
import { type Clock, systemClock, within } from '../../shared/clock.ts';
import { sha256 } from '../../shared/digest.ts';
import { discoverEndpoint } from '../remote/discovery.ts';
import { oncePerCause } from '../remote/tier-store.ts';
import {
  callIntrospection,
  type IntrospectionAnswer,
  IntrospectionFailure,
  introspectionAnswer,
} from './call-endpoint.ts';
import { isActive } from './check-answer.ts';

/** What introspection needs of the request's I/O: the Worker's secrets, the data centre's cache, `waitUntil`. */
export interface IntrospectionIo {
  secret?(name: string): string | undefined;
  readonly cache: Cache | undefined;
  waitUntil(promise: Promise<unknown>): void;
}

export interface Introspector {
  /**
   * The answer for this token: from this isolate's memory, the data centre's Cache API, or one
   * call to the endpoint that concurrent requests with the same token share. Throws
   * `introspection_unavailable` (503), `introspection_unauthorized` (500), or `token_inactive`
   * when the endpoint refused to introspect this token (400).
   */
  introspect(token: string, io: IntrospectionIo, decision: Decision): Promise<IntrospectionAnswer>;
}

export interface IntrospectorDeps {
  readonly now: () => number;
  readonly log: Logger;
  readonly fetch: typeof fetch | undefined;
  /** Timers for the cache read's bound (default: the runtime's, with `now`). */
  readonly clock?: Clock;
}

interface Remembered {
  readonly answer: IntrospectionAnswer;
  readonly untilMs: number;
}

/** Where the data centre's copies live: a URL of our own, never fetched, keyed by a hash. */
const CACHE_ORIGIN = 'https://introspection.edge-verifier.invalid';

/**
 * The epoch millisecond a data centre copy stops being reusable: an isolate that reads it late
 * keeps it only until then, so no copy outlives the policy's bound (`max-age` alone would restart it).
 */
const UNTIL_HEADER = 'x-reuse-until';

/**
 * One issuer's introspection, built once per isolate. Answers are keyed by SHA-256 of the issuer
 * id and the token, never the token itself (not in a cache key, not in KV, not in a log): an active
 * one is reused for min(`cache_seconds`, `exp` − now), an inactive one for
 * `INTROSPECTION_INACTIVE_CACHE_SECONDS`, in this isolate and in the data centre's Cache API. The
 * endpoint's own `Cache-Control` (oidc-provider sends `no-store`) does not govern this: the policy
 * does.
 */
export function createIntrospector(issuer: IssuerConfig, deps: IntrospectorDeps): Introspector {
  const { now, log, fetch: doFetch } = deps;
  const clock = deps.clock ?? systemClock(now);
  const config = issuer.introspection;
  if (config === undefined) throw new TypeError(`issuer ${issuer.id} does not introspect`);
  const memory = new Map<string, Remembered>();
  const inFlight = new Map<string, Promise<IntrospectionAnswer>>();
  let calling = 0;
  const loud = oncePerCause(log, now, issuer.jwksRefreshCooldownSeconds * 1000);
  let endpoint: Promise<string> | undefined;
  let discoveryRetryAt = 0;

  /**
   * The configured endpoint, or the one the metadata names. A failed discovery is tried again only
   * after the Retry-After its 503 gave, so an identity provider that is down is not asked once per
   * opaque token.
   */
  function endpointOf(): Promise<string> {
    if (config?.endpoint !== undefined) return Promise.resolve(config.endpoint);
    if (endpoint === undefined && now() < discoveryRetryAt) {
      return Promise.reject(new IntrospectionFailure('unavailable', 'discovery failed moments ago'));
    }
    endpoint ??= discoverEndpoint(issuer.issuer, 'introspection_endpoint', doFetch).catch((error: unknown) => {
      endpoint = undefined;
      discoveryRetryAt = now() + INTROSPECTION_UNAVAILABLE_RETRY_AFTER_SECONDS * 1000;
      throw new IntrospectionFailure('unavailable', `discovery failed: ${String(error)}`);
    });
    return endpoint;
  }

  /** This isolate's copy, bounded in entries; one already past its time is not kept. */
  function keep(key: string, answer: IntrospectionAnswer, untilMs: number): void {
    if (untilMs <= now()) return;
    if (memory.size >= INTROSPECTION_CACHE_MAX_ENTRIES) memory.delete(memory.keys().next().value as string);
    memory.set(key, { answer, untilMs });
  }

  function remember(key: string, answer: IntrospectionAnswer, io: IntrospectionIo): void {
    const seconds = keepSeconds(answer, config?.cacheSeconds ?? 0, now());
    if (seconds <= 0) return;
    const untilMs = now() + seconds * 1000;
    keep(key, answer, untilMs);
    const cache = io.cache;
    if (cache) {
      const stored = new Response(answer.body, {
        headers: {
          'content-type': 'application/json',
          'cache-control': `max-age=${seconds}`,
          [UNTIL_HEADER]: String(untilMs),
        },
      });
      io.waitUntil(cache.put(cacheUrl(key), stored).catch(() => {}));
    }
  }

  async function fromColo(key: string, io: IntrospectionIo): Promise<Remembered | undefined> {
    const cache = io.cache;
    if (!cache) return undefined;
    try {
      // A data centre cache that does not answer is a miss, not a stuck request.
      const hit = await within(cache.match(cacheUrl(key)), TIER_READ_TIMEOUT_MS, clock);
      const untilMs = Number(hit?.headers.get(UNTIL_HEADER));
      if (!hit || !(untilMs > now())) return undefined;
      const body = await hit.text();
      const members = JSON.parse(body) as Record<string, unknown>;
      return { answer: introspectionAnswer(body, members), untilMs };
    } catch {
      return undefined;
    }
  }

  async function call(
    key: string,
    token: string,
    io: IntrospectionIo,
    decision: Decision,
  ): Promise<IntrospectionAnswer> {
    const colo = await fromColo(key, io);
    if (colo) {
      decision.keyTier = 'introspection_cache';
      keep(key, colo.answer, colo.untilMs);
      return colo.answer;
    }
    // Random opaque tokens must not queue up calls: beyond the bound, refuse at once.
    if (calling >= INTROSPECTION_MAX_IN_FLIGHT) throw new VerifierError('introspection_unavailable');
    decision.keyTier = 'introspection';
    const secretName = config?.clientSecret as string;
    const secret = io.secret?.(secretName);
    if (secret === undefined) {
      throw new ConfigError(secretName, 'is not set: the Worker secret named by introspection.client_secret');
    }
    calling++;
    try {
      const answer = await callIntrospection(
        await endpointOf(),
        token,
        { id: config?.clientId as string, secret },
        doFetch ?? fetch,
      );
      remember(key, answer, io);
      return answer;
    } catch (error) {
      throw refusalFor(error, key, io);
    } finally {
      calling--;
    }
  }

  /**
   * Another request's call, waited on for the call's own timeout at most: on Workers a promise
   * owned by a request that ends (its client went away) may never settle for the others, and a
   * request that waits on it forever is cancelled by the runtime as hung.
   */
  async function sharedAnswer(shared: Promise<IntrospectionAnswer>): Promise<IntrospectionAnswer> {
    try {
      return await within(shared, INTROSPECTION_TIMEOUT_MS, clock);
    } catch (error) {
      throw error instanceof VerifierError ? error : new VerifierError('introspection_unavailable');
    }
  }

  function refusalFor(error: unknown, key: string, io: IntrospectionIo): VerifierError {
    if (!(error instanceof IntrospectionFailure)) {
      return error instanceof VerifierError ? error : new VerifierError('introspection_unavailable');
    }
    if (error.kind === 'unauthorized') {
      log('introspection_unauthorized', { issuer: issuer.id, reason: error.message });
      return new VerifierError('introspection_unauthorized');
    }
    if (error.kind === 'refused') {
      loud('introspection_refused', { tier: 'introspection', op: 'refused', issuer: issuer.id, reason: error.message });
      // The server cannot introspect this token: for its short while, like an inactive one.
      remember(key, introspectionAnswer('{"active":false}', { active: false }), io);
      return new VerifierError('token_inactive');
    }
    loud('introspection_unavailable', { tier: 'introspection', op: 'call', issuer: issuer.id, reason: error.message });
    return new VerifierError('introspection_unavailable');
  }

  return {
    async introspect(token, io, decision) {
      const key = await cacheKey(issuer.id, token);
      const held = memory.get(key);
      if (held && held.untilMs > now()) {
        decision.keyTier = 'introspection_cache';
        return held.answer;
      }
      if (held) memory.delete(key);
      const shared = inFlight.get(key);
      if (shared) {
        decision.keyTier = 'introspection';
        return sharedAnswer(shared);
      }
      const pending = call(key, token, io, decision).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
      return pending;
    },
  };
}

/** Seconds an answer may be reused: inactive ones briefly, active ones up to the policy's bound and never past `exp`. */
function keepSeconds(answer: IntrospectionAnswer, cacheSeconds: number, nowMs: number): number {
  if (!isActive(answer.members)) return INTROSPECTION_INACTIVE_CACHE_SECONDS;
  const { exp } = answer.members;
  const untilExp = typeof exp === 'number' ? Math.floor(exp - nowMs / 1000) : cacheSeconds;
  return Math.max(0, Math.min(cacheSeconds, untilExp));
}

/** SHA-256 of the issuer id and the token: the token itself is never a key anywhere. */
async function cacheKey(issuerId: string, token: string): Promise<string> {
  return bytesToBase64url(await sha256(`${issuerId}\n${token}`));
}

function cacheUrl(key: string): string {
  return `${CACHE_ORIGIN}/${key}`;
}
