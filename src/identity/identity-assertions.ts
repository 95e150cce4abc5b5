/**
 * The gateway's identity assertions, built once per isolate from the config: which routes sign
 * one and for which audience, the reuse caches, and the public keys the JWKS endpoint serves.
 * The keys are read from their secrets per request (a binding), parsed once per value.
 */
import type { JWK } from 'jose';
import type { Config, IdentityAssertionConfig, IssuerConfig, RouteConfig } from '../config.ts';
import { IDENTITY_ASSERTION_CACHE_MAX_ENTRIES } from '../constants.ts';
import { ConfigError } from '../errors.ts';
import { TENANT_PLACEHOLDER } from '../issuers/issuer-pattern.ts';
import type { AuthResult } from '../verifier.ts';
import { assertionClaims, signAssertion } from './assertion.ts';
import { type AssertionCache, createAssertionCache } from './assertion-cache.ts';
import { type AssertionKeys, assertionKeysReader } from './assertion-keys.ts';

export interface IdentityAssertions {
  /** Where the public keys are served. */
  readonly jwksPath: string;
  /**
   * The assertion a verified request on `route` carries, in `route.identityAssertion.header`;
   * `undefined` when the route sends none. A reused one is returned as is, without a promise:
   * this runs on every forwarded request. Throws (or rejects with) `config_invalid` naming the
   * secret when its keys are missing or bad. `nowMs` is the request's time (epoch ms): when a new
   * assertion is issued, and whether a kept one may still be reused.
   */
  assertionFor(route: RouteConfig, auth: AuthResult, env: unknown, nowMs: number): string | Promise<string> | undefined;
  /** The public half of every key of every signing secret, in policy order. */
  publicKeys(env: unknown): Promise<JWK[]>;
}

/** One assertion setting for one audience: routes that share both share the signatures. */
interface Signer {
  readonly settings: IdentityAssertionConfig;
  readonly audience: string;
  readonly cache: AssertionCache<AssertionKeys>;
  /** The setting's keys from the env, parsed once per secret value (shared by the signers of one secret). */
  readonly keys: Reader;
}

/** The audience an origin checks: its URL's origin, or the service binding's name (a Worker behind it has no URL of its own). */
function audienceOf(route: RouteConfig, config: Config): string {
  const level = route.origin !== undefined || route.originService !== undefined ? route : config;
  return level.origin === undefined ? (level.originService as string) : new URL(level.origin).origin;
}

/** `undefined` when the policy names no identity assertion. */
export function createIdentityAssertions(config: Config): IdentityAssertions | undefined {
  const shared = config.identityAssertions;
  if (shared === undefined) return undefined;
  const readers = new Map(shared.signingKeys.map((name) => [name, assertionKeysReader(name)] as const));
  const signers = compileSigners(config, readers);
  const issuerNames = new Map(config.issuers.map((issuer) => [issuer.id, issuerName(issuer)] as const));

  return {
    jwksPath: shared.jwksPath,
    assertionFor(route, auth, env, nowMs) {
      const signer = signers.get(route);
      if (signer === undefined) return undefined;
      const keys = signer.keys(env);
      if (keys instanceof Promise) return keys.then((ready) => assertion(signer, auth, ready, nowMs));
      return assertion(signer, auth, keys, nowMs);
    },
    async publicKeys(env) {
      const sets = await Promise.all(shared.signingKeys.map((name) => (readers.get(name) as Reader)(env)));
      return uniqueKids(
        sets.flatMap((set) => set.publicKeys),
        shared.signingKeys,
      );
    },
  };

  function assertion(signer: Signer, auth: AuthResult, keys: AssertionKeys, nowMs: number): string | Promise<string> {
    return (
      signer.cache.get(auth.claims, auth.issuerId, auth.encodedClaims, keys, nowMs) ?? sign(signer, auth, keys, nowMs)
    );
  }

  async function sign(signer: Signer, auth: AuthResult, keys: AssertionKeys, nowMs: number): Promise<string> {
    const issuedAt = Math.floor(nowMs / 1000);
    const claims = assertionClaims({
      settings: signer.settings,
      audience: signer.audience,
      token: auth.claims,
      tokenIssuer:
        typeof auth.claims.iss === 'string' ? auth.claims.iss : issuerNames.get(auth.issuerId)?.(auth.tenant),
      subject: auth.subject,
      issuedAt,
      jti: crypto.randomUUID(),
    });
    const jwt = await signAssertion(claims, keys.signing);
    // Reused until half its lifetime has passed: an origin always receives one with time left.
    const reuseUntilMs = (issuedAt + ((claims.exp as number) - issuedAt) / 2) * 1000;
    signer.cache.set(auth.claims, auth.issuerId, auth.encodedClaims, keys, { jwt, reuseUntilMs });
    return jwt;
  }
}

type Reader = ReturnType<typeof assertionKeysReader>;

/**
 * The `iss` an issuer stands for when the token names none (an introspection answer need not):
 * its first accepted `iss`, a `{tenantid}` template filled with the token's tenant; `undefined`
 * for a template without one.
 */
function issuerName({ issuer }: IssuerConfig): (tenant: string | undefined) => string | undefined {
  if (!issuer.includes(TENANT_PLACEHOLDER)) return () => issuer;
  return (tenant) => (tenant === undefined ? undefined : issuer.replace(TENANT_PLACEHOLDER, tenant));
}

/** Each route that signs, mapped to its signer; one signer per setting and audience. */
function compileSigners(config: Config, readers: ReadonlyMap<string, Reader>): Map<RouteConfig, Signer> {
  const bySetting = new Map<IdentityAssertionConfig, Map<string, Signer>>();
  const signers = new Map<RouteConfig, Signer>();
  for (const route of config.routes) {
    const settings = route.identityAssertion;
    if (settings === undefined) continue;
    const audience = audienceOf(route, config);
    const byAudience = bySetting.get(settings) ?? new Map<string, Signer>();
    bySetting.set(settings, byAudience);
    let signer = byAudience.get(audience);
    if (!signer) {
      signer = {
        settings,
        audience,
        cache: createAssertionCache(IDENTITY_ASSERTION_CACHE_MAX_ENTRIES),
        keys: readers.get(settings.signingKey) as Reader,
      };
      byAudience.set(audience, signer);
    }
    signers.set(route, signer);
  }
  return signers;
}

/**
 * Two secrets may share a key (one listed in both); two different keys under one kid would leave
 * an origin unable to choose, so they refuse the JWKS (500) instead.
 */
function uniqueKids(keys: readonly JWK[], secrets: readonly string[]): JWK[] {
  const byKid = new Map<string, JWK>();
  for (const key of keys) {
    const seen = byKid.get(key.kid as string);
    if (seen === undefined) byKid.set(key.kid as string, key);
    else if (seen.x !== key.x || seen.y !== key.y || seen.crv !== key.crv) {
      throw new ConfigError(secrets.join(', '), 'hold two different keys under one kid');
    }
  }
  return [...byKid.values()];
}
