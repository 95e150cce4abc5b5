import { JWKS_FETCH_TIMEOUT_MS, JWKS_MAX_SIZE_BYTES, MIN_ISSUER_MAX_AGE_SECONDS } from '../../constants.ts';
import type { Logger } from '../../observe/log.ts';
import { discoverJwksUri } from './discovery.ts';
import { fetchJson } from './fetch-json.ts';
import { parseJwks } from './parse-jwks.ts';
import { hashKeys, type JwksRecord } from './record.ts';

/** Where one issuer's keys come from, and how long a fetched set stays fresh. */
export interface KeySource {
  readonly issuer: string;
  /** `undefined`: discover from the issuer's metadata. */
  readonly jwksUri: string | undefined;
  /** Configured freshness; the issuer's max-age may shorten it. */
  readonly ttlSeconds: number;
}

export interface IssuerFetchDeps {
  readonly now: () => number;
  readonly log: Logger;
  /** Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
}

/** The name the shared tiers and the coordinator know a key source by: one per JWKS URI. */
export function sourceKey(source: Pick<KeySource, 'issuer' | 'jwksUri'>): string {
  return source.jwksUri ?? `discovery:${source.issuer}`;
}

/**
 * Fetches and parses a key source's JWKS into a record for every tier. `knownJwksUri` is a
 * discovered URI still worth using (it saves the metadata fetch); without one, and with no
 * configured `jwksUri`, the issuer's metadata is read first.
 */
export async function fetchRecord(
  source: KeySource,
  deps: IssuerFetchDeps,
  knownJwksUri?: string,
): Promise<JwksRecord> {
  const jwksUri = source.jwksUri ?? knownJwksUri ?? (await discoverJwksUri(source.issuer, deps.fetch));
  const { body, maxAgeSeconds } = await fetchJson(jwksUri, {
    timeoutMs: JWKS_FETCH_TIMEOUT_MS,
    maxBytes: JWKS_MAX_SIZE_BYTES,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const keys = parseJwks(body, deps.log);
  return {
    jwksUri,
    keys,
    fetchedAt: deps.now(),
    ttlSeconds: boundedTtlSeconds(source.ttlSeconds, maxAgeSeconds),
    hash: await hashKeys(keys),
  };
}

/**
 * The issuer may shorten our TTL with max-age, never lengthen it, and never below
 * min(60 s, our TTL): a configured 30 s stays 30 s, a max-age=0 issuer is not refetched per request.
 */
export function boundedTtlSeconds(configured: number, maxAgeSeconds: number | undefined): number {
  return Math.min(configured, Math.max(maxAgeSeconds ?? configured, MIN_ISSUER_MAX_AGE_SECONDS));
}
