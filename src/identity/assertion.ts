/**
 * The identity assertion: a short-lived JWT the gateway signs for the origin, so that an origin
 * in any language checks who called with the JWT library it has, against the gateway's JWKS, and
 * holds no secret with which it could mint identities (as Cloudflare Access, Google IAP and
 * Pomerium do). This file builds its claims and signs them; nothing here reads the request.
 */
import { type JWTPayload, SignJWT } from 'jose';
import type { IdentityAssertionConfig } from '../config.ts';
import type { AssertionSigningKey } from './assertion-keys.ts';

/** What an assertion says about one verified request. */
export interface AssertionInput {
  /** The route's assertion settings. */
  readonly settings: Pick<IdentityAssertionConfig, 'issuer' | 'lifetimeSeconds' | 'claims'>;
  /** The origin's URL origin, or the name of the service binding the request goes through. */
  readonly audience: string;
  /** The verified token's claims. */
  readonly token: JWTPayload;
  /** The `iss` that vouched for the token: its own, else the verifying issuer's (an introspection answer may have none). */
  readonly tokenIssuer: string | undefined;
  /** The token's subject, when it has a non-empty one. */
  readonly subject: string | undefined;
  /** When it is signed, in whole Unix seconds. */
  readonly issuedAt: number;
  /** A fresh id for this assertion. */
  readonly jti: string;
}

/**
 * The payload, in this order: `iss` (ours), `aud`, `sub`, `iat`, `exp`, `jti`, the token
 * issuer's `iss` as `token_iss`, then each listed claim the token has. The reserved names are
 * refused at start-up, so a listed claim never overwrites ours. `exp` is `lifetime_seconds` on,
 * or the token's own `exp` when that comes first: an assertion never outlives the credential it
 * stands for (an inner service that takes it as its token would otherwise extend it).
 */
export function assertionClaims(input: AssertionInput): JWTPayload {
  const { settings, audience, token, subject, issuedAt, jti, tokenIssuer } = input;
  const claims: JWTPayload = { iss: settings.issuer, aud: audience };
  if (subject !== undefined) claims.sub = subject;
  claims.iat = issuedAt;
  const lifetimeEnd = issuedAt + settings.lifetimeSeconds;
  claims.exp = typeof token.exp === 'number' && token.exp < lifetimeEnd ? token.exp : lifetimeEnd;
  claims.jti = jti;
  if (tokenIssuer !== undefined) claims.token_iss = tokenIssuer;
  for (const name of settings.claims) {
    if (name !== 'sub' && Object.hasOwn(token, name) && token[name] !== undefined) claims[name] = token[name];
  }
  return claims;
}

/** The compact JWT: header `alg`, `kid` and `typ: JWT` (RFC 7519 §5.1), signed with WebCrypto through jose. */
export function signAssertion(claims: JWTPayload, signing: AssertionSigningKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'JWT' }).sign(signing.key);
}
