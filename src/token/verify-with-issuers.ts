import type { JWTPayload } from 'jose';
import { VerifierError } from '../errors.ts';
import { keyIssuerAllows, matchIssuer } from '../issuers/issuer-pattern.ts';
import type { IssuerRuntime } from '../issuers/issuer-runtime.ts';
import { selectIssuer } from '../issuers/select-issuer.ts';
import { keyIssuerOf } from '../keys/key-issuer.ts';
import type { ResolverIo } from '../keys/remote/shared-tiers.ts';
import type { Decision } from '../observe/decision.ts';
import type { IssuerConfig } from '../policy/config-model.ts';
import { claimAt } from '../shared/claim-path.ts';
import { checkJweHeader } from './decrypt-token.ts';
import { openToken } from './open-token.ts';
import { parseTokenShape, type TokenShape } from './token-shape.ts';
import { verifyToken } from './verify-token.ts';

/** A token that one of the candidate issuers verified. */
export interface VerifiedToken {
  readonly issuer: IssuerRuntime;
  readonly claims: JWTPayload;
  /** The signed token the claims are from: the token itself, or the one inside an encrypted token. */
  readonly jws: string;
}

/** What the token step needs of the request's I/O: the key tiers, and the Worker's secrets. */
export interface TokenIo extends ResolverIo {
  secret?(name: string): string | undefined;
}

export type TokenVerifier = (
  token: string,
  candidates: readonly IssuerRuntime[],
  io: TokenIo,
  decision: Decision,
) => Promise<VerifiedToken>;

/**
 * The token step: a token one of `candidates` verified before (its verified-token cache), else
 * the token opened (a JWS; or a JWE, decrypted by a candidate that holds decryption keys, whose
 * inner JWS only that issuer may verify), its issuer selected by `iss` among the candidates, and
 * verified with that issuer's keys and rules: signature, type, claims.
 */
export function createTokenVerifier(now: () => number): TokenVerifier {
  return async (token, candidates, io, decision) => {
    const cached = fromCache(token, candidates, io, decision, now());
    if (cached) return cached;
    const opened = openToken(token);
    if (opened.kind === 'jws') return verifySigned(token, opened.shape, candidates, io, decision);
    const { inner, issuer } = await decrypt(token, opened.header, candidates, io);
    return (
      fromCache(inner, [issuer], io, decision, now()) ??
      verifySigned(inner, parseTokenShape(inner), [issuer], io, decision)
    );
  };

  async function verifySigned(
    token: string,
    shape: TokenShape,
    candidates: readonly IssuerRuntime[],
    io: TokenIo,
    decision: Decision,
  ): Promise<VerifiedToken> {
    const issuer = selectIssuer(candidates, shape.claims.iss);
    decision.issuer = issuer.config.id;
    if (typeof shape.header.alg === 'string') decision.alg = shape.header.alg;
    const { keys, tokenCache } = issuer;
    const startedMs = now();
    const versionBefore = keys.currentVersion(io);
    const claims = await verifyToken(
      token,
      shape,
      issuer.config,
      (header) => keys.getKeys(header, io, decision),
      startedMs,
      (key) => keyServes(issuer.config, shape.claims, key),
    );
    decision.verifyMs = now() - startedMs;
    const versionAfter = keys.currentVersion(io);
    // A set that changed during verification may no longer hold the key that verified it.
    if (versionBefore === undefined || versionBefore === versionAfter) tokenCache.set(token, claims, versionAfter);
    return { issuer, claims, jws: token };
  }
}

/**
 * Whether a key may verify this token: a key naming its own `issuer` (Microsoft Entra's) serves
 * only tokens of that issuer, `{tenantid}` read as the token's tenant (the tenant its `iss` names
 * under a template, else its tenant claim). The claims are unverified here; they only narrow.
 */
function keyServes(issuer: IssuerConfig, claims: JWTPayload, key: CryptoKey): boolean {
  const keyIssuer = keyIssuerOf(key);
  if (keyIssuer === undefined) return true;
  const iss = typeof claims.iss === 'string' ? claims.iss : '';
  const matched = matchIssuer(issuer, iss);
  const claimed = claimAt(claims, issuer.tenantClaim);
  return keyIssuerAllows(keyIssuer, iss, matched ? matched : typeof claimed === 'string' ? claimed : undefined);
}

function fromCache(
  token: string,
  candidates: readonly IssuerRuntime[],
  io: TokenIo,
  decision: Decision,
  nowMs: number,
): VerifiedToken | undefined {
  for (const issuer of candidates) {
    const claims = issuer.tokenCache.get(token, nowMs, issuer.keys.currentVersion(io));
    if (claims) {
      decision.issuer = issuer.config.id;
      decision.keyTier = 'token_cache';
      return { issuer, claims, jws: token };
    }
  }
  return undefined;
}

/**
 * A nested JWT (a JWE around a JWS): decrypted with the keys of a candidate that accepts
 * encrypted tokens. The header is checked before any key is touched; the inner token is then
 * the signed token of that issuer only, and a JWE inside the JWE is refused by its shape check.
 */
async function decrypt(
  token: string,
  header: Readonly<Record<string, unknown>>,
  candidates: readonly IssuerRuntime[],
  io: TokenIo,
): Promise<{ readonly inner: string; readonly issuer: IssuerRuntime }> {
  const decrypting = candidates.filter((issuer) => issuer.config.decryptionKeys !== undefined);
  if (decrypting.length === 0) throw new VerifierError('encrypted_token_not_accepted');
  const { alg, kid } = checkJweHeader(header);
  for (const issuer of decrypting) {
    const keys = issuer.decryptionKeys(io.secret?.(issuer.config.decryptionKeys as string));
    try {
      return { inner: await keys.decrypt(token, alg, kid), issuer };
    } catch (error) {
      if (!(error instanceof VerifierError && error.code === 'decryption_failed')) throw error;
    }
  }
  throw new VerifierError('decryption_failed');
}
