import type { IssuerConfig } from '../config.ts';
import { HMAC_ALGORITHMS, VERIFIED_TOKEN_CACHE_MAX_ENTRIES } from '../constants.ts';
import { ConfigError, VerifierError } from '../errors.ts';
import { createIntrospector, type Introspector } from '../keys/introspection/introspector.ts';
import type { KeySource } from '../keys/key-source.ts';
import { keysByAlgorithm, localSecretKeys } from '../keys/local-secret.ts';
import { createJwksResolver } from '../keys/remote/resolver.ts';
import type { Logger } from '../observe/log.ts';
import type { Clock } from '../shared/clock.ts';
import { type DecryptionKeys, parseDecryptionKeys } from '../token/decrypt-token.ts';
import { createVerifiedTokenCache, type VerifiedTokenCache } from '../token/token-cache.ts';
import { secretParser } from '../worker/secrets.ts';

/** One issuer at run time: its config, its key source and its verified tokens, never shared with another issuer. */
export interface IssuerRuntime {
  readonly config: IssuerConfig;
  readonly keys: KeySource;
  readonly tokenCache: VerifiedTokenCache;
  /** Its RFC 7662 introspection, when it has one. */
  readonly introspector: Introspector | undefined;
  /**
   * Its decryption keys from the text of its `decryption_keys` secret (`undefined` when the
   * Worker has no such secret: the deployment's error, 500). Only for an issuer that has one.
   */
  decryptionKeys(secretText: string | undefined): DecryptionKeys;
}

export interface IssuerDeps {
  readonly now: () => number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly fetch: typeof fetch | undefined;
}

/** Built once per isolate and issuer: its key source's memory tier and its token cache live here. */
export function createIssuerRuntime(issuer: IssuerConfig, { now, clock, log, fetch }: IssuerDeps): IssuerRuntime {
  const secretName = issuer.decryptionKeys;
  const parseKeys =
    secretName === undefined ? undefined : secretParser((text) => parseDecryptionKeys(secretName, text));
  return {
    config: issuer,
    tokenCache: createVerifiedTokenCache(VERIFIED_TOKEN_CACHE_MAX_ENTRIES),
    keys: keySourceOf(issuer, { now, clock, log, fetch }),
    introspector:
      issuer.introspection === undefined ? undefined : createIntrospector(issuer, { now, clock, log, fetch }),
    decryptionKeys(secretText) {
      if (secretName === undefined || parseKeys === undefined) throw new VerifierError('encrypted_token_not_accepted');
      if (secretText === undefined) {
        throw new ConfigError(secretName, 'is not set: the Worker secret named by decryption_keys');
      }
      return parseKeys(secretText);
    },
  };
}

/**
 * The JWKS tiers for the asymmetric algorithms, and the shared secret for HS* when the issuer has
 * one; an issuer that accepts only HS* has no JWKS and fetches nothing.
 */
function keySourceOf(issuer: IssuerConfig, { clock, log, fetch }: IssuerDeps): KeySource {
  const asymmetric = issuer.algorithms.some((alg) => !Object.hasOwn(HMAC_ALGORITHMS, alg));
  const remote = asymmetric
    ? createJwksResolver({
        issuer: issuer.issuer,
        jwksUri: issuer.jwksUri,
        ttlSeconds: issuer.jwksCacheTtlSeconds,
        cooldownSeconds: issuer.jwksRefreshCooldownSeconds,
        clock,
        log,
        ...(fetch ? { fetch } : {}),
      })
    : undefined;
  if (issuer.hmacSecret === undefined) return remote as KeySource;
  return keysByAlgorithm(remote, localSecretKeys(issuer.hmacSecret));
}
