import type { JWTPayload } from 'jose';
import { VerifierError } from '../errors.ts';
import { keyIssuerAllows, matchIssuer } from '../issuers/issuer-pattern.ts';
import type { IssuerRuntime } from '../issuers/issuer-runtime.ts';
import { selectIssuer } from '../issuers/select-issuer.ts';
import { checkAnswer, isActive } from '../keys/introspection/check-answer.ts';
import type { IntrospectionIo } from '../keys/introspection/introspector.ts';
import { keyIssuerOf } from '../keys/key-issuer.ts';
import type { ResolverIo } from '../keys/remote/shared-tiers.ts';
import type { Decision } from '../observe/decision.ts';
import type { IssuerConfig } from '../policy/config-model.ts';
import { claimAt } from '../shared/claim-path.ts';
import { checkJweHeader } from './decrypt-token.ts';
import { openToken } from './open-token.ts';
import { parseTokenShape, type TokenShape } from './token-shape.ts';
import { verifyToken } from './verify-token.ts';

/** A token that one of the candidate issuers verified, or whose introspection answer it accepted. */
export interface VerifiedToken {
  readonly issuer: IssuerRuntime;
  readonly claims: JWTPayload;
  /**
   * The claims as the issuer wrote them, base64url (X-Auth-Claims): the payload segment of the
   * signed token (the inner one of an encrypted token), or the introspection answer's body.
   */
  readonly encodedClaims: string;
  /** `introspection`: an opaque token, its claims the answer's members. */
  readonly source: 'jws' | 'introspection';
}

/** What the token step needs of the request's I/O: the key tiers, the Worker's secrets, the data centre's cache. */
export interface TokenIo extends ResolverIo, IntrospectionIo {}

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
    const verified =
      fromCache(token, candidates, io, decision, now()) ?? (await verifyOpened(token, candidates, io, decision));
    // Revocation: an issuer that introspects every token asks about this one too, cached or not.
    const { introspector, config } = verified.issuer;
    if (verified.source === 'jws' && introspector && config.introspection?.tokens === 'all') {
      const answer = await introspector.introspect(token, io, decision);
      if (!isActive(answer.members)) throw new VerifierError('token_inactive');
    }
    return verified;
  };

  async function verifyOpened(
    token: string,
    candidates: readonly IssuerRuntime[],
    io: TokenIo,
    decision: Decision,
  ): Promise<VerifiedToken> {
    const opened = openToken(token);
    if (opened.kind === 'jws') return verifySigned(token, opened.shape, candidates, io, decision);
    if (opened.kind === 'opaque') return introspected(token, opened.refusal, candidates, io, decision);
    const { inner, issuer } = await decrypt(token, opened.header, candidates, io);
    return (
      fromCache(inner, [issuer], io, decision, now()) ??
      verifySigned(inner, parseTokenShape(inner), [issuer], io, decision)
    );
  }

  /**
   * An opaque token, asked of the one candidate that introspects (a route has at most one); with
   * none, it is refused as the malformed token it is to a JWT verifier. Another issuer's opaque
   * token is never sent anywhere.
   */
  async function introspected(
    token: string,
    refusal: VerifierError,
    candidates: readonly IssuerRuntime[],
    io: TokenIo,
    decision: Decision,
  ): Promise<VerifiedToken> {
    const issuer = candidates.find((candidate) => candidate.introspector !== undefined);
    if (!issuer?.introspector) throw refusal;
    decision.issuer = issuer.config.id;
    const answer = await issuer.introspector.introspect(token, io, decision);
    checkAnswer(answer.members, issuer.config, now());
    return {
      issuer,
      claims: answer.members as JWTPayload,
      encodedClaims: answer.encodedBody,
      source: 'introspection',
    };
  }

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
    return { issuer, claims, encodedClaims: payloadSegment(token), source: 'jws' };
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
      return { issuer, claims, encodedClaims: payloadSegment(token), source: 'jws' };
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

function payloadSegment(token: string): string {
  const first = token.indexOf('.');
  return token.slice(first + 1, token.indexOf('.', first + 1));
}
