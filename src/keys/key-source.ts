import type { JWSHeaderParameters } from 'jose';
import type { Decision } from '../observe/decision.ts';
import type { ResolverIo } from './remote/shared-tiers.ts';

/**
 * Where an issuer's verification keys come from. Today's one kind is the remote JWKS with its
 * tiers (`remote/resolver.ts`); another kind (a local secret, introspection) is a new file that
 * implements this, not a branch in the verifier.
 */
export interface KeySource {
  /**
   * Synchronously: the version of the keys held now, when they may still be used (results
   * derived from them, such as verified tokens, are valid only while it stays the same), or
   * `undefined` when nothing is held.
   */
  currentVersion(io: ResolverIo): string | undefined;
  /** The keys that may verify a token with this header, each imported for its `alg`; throws `unknown_kid` or `jwks_unavailable`. */
  getKeys(header: JWSHeaderParameters, io: ResolverIo, decision?: Decision): Promise<readonly CryptoKey[]>;
  /** Refreshes the keys into every tier now (the scheduled refresh). */
  refresh(io: ResolverIo): Promise<void>;
}
