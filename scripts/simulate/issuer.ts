/**
 * The issuer: real ES256 public keys (the resolver imports them with WebCrypto), a schedule of
 * published key sets and outages, and a `fetch` that answers its JWKS URL after a fixed latency.
 * It ignores the abort signal: the real 5 s timeout is far above its latency.
 */
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Scheduler } from './clock.ts';
import { inMemoryResponse } from './response.ts';

export interface Publication {
  /** Elapsed milliseconds from which the issuer serves this set. */
  readonly at: number;
  readonly kids: readonly string[];
}

export interface Outage {
  /** Elapsed milliseconds, `from` included, `to` excluded. */
  readonly from: number;
  readonly to: number;
}

export interface IssuerPlan {
  /** In time order; the first at 0. */
  readonly publications: readonly Publication[];
  readonly outages: readonly Outage[];
}

export interface SimIssuer {
  /** Passed as the resolvers' and the coordinator's `fetch` option. */
  readonly fetch: (input: Request | string | URL, init?: RequestInit) => Promise<Response>;
  /** Elapsed milliseconds of every fetch, whatever its answer. */
  readonly fetches: readonly number[];
  /** Whether `kid` is in the set published at `at`: a token it signed is genuine. */
  published(kid: string, at: number): boolean;
}

/** Public JWKs of freshly generated P-256 key pairs, named `kids`. */
export async function makePublicKeys(kids: readonly string[]): Promise<ReadonlyMap<string, JWK>> {
  const keys = new Map<string, JWK>();
  for (const kid of kids) {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    keys.set(kid, { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' });
  }
  return keys;
}

export interface IssuerOptions {
  readonly jwksUri: string;
  readonly latencyMs: number;
  /** `Cache-Control: max-age` of the JWKS; `undefined` sends none. */
  readonly maxAgeSeconds: number | undefined;
  readonly keys: ReadonlyMap<string, JWK>;
  readonly plan: IssuerPlan;
}

export function createSimIssuer(scheduler: Scheduler, options: IssuerOptions): SimIssuer {
  const { plan } = options;
  const bodies = plan.publications.map((publication) =>
    JSON.stringify({
      keys: publication.kids.map((kid) => {
        const key = options.keys.get(kid);
        if (!key) throw new TypeError(`the issuer has no key "${kid}"`);
        return key;
      }),
    }),
  );
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.maxAgeSeconds !== undefined) headers['cache-control'] = `max-age=${options.maxAgeSeconds}`;
  const fetches: number[] = [];

  function publicationAt(at: number): number {
    let index = 0;
    while (index + 1 < plan.publications.length && (plan.publications[index + 1] as Publication).at <= at) index++;
    return index;
  }

  return {
    fetches,
    published: (kid, at) => (plan.publications[publicationAt(at)] as Publication).kids.includes(kid),
    async fetch(input) {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const at = scheduler.elapsed();
      fetches.push(at);
      const down = plan.outages.some((outage) => outage.from <= at && at < outage.to);
      await scheduler.sleep(options.latencyMs);
      if (down) return inMemoryResponse('service unavailable', { status: 503 });
      if (url !== options.jwksUri) return inMemoryResponse('not found', { status: 404 });
      return inMemoryResponse(bodies[publicationAt(at)] as string, { headers });
    },
  };
}
