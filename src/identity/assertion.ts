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
 * refused at start-up, so a listed claim never overwrites ours.
 */
export function assertionClaims({ settings, audience, token, subject, issuedAt, jti }: AssertionInput): JWTPayload {
  const claims: JWTPayload = { iss: settings.issuer, aud: audience };
  if (subject !== undefined) claims.sub = subject;
  claims.iat = issuedAt;
  claims.exp = issuedAt + settings.lifetimeSeconds;
  claims.jti = jti;
  if (typeof token.iss === 'string') claims.token_iss = token.iss;
  for (const name of settings.claims) {
    if (name !== 'sub' && Object.hasOwn(token, name) && token[name] !== undefined) claims[name] = token[name];
  }
  return claims;
}

/** The compact JWT: header `alg`, `kid` and `typ: JWT` (RFC 7519 §5.1), signed with WebCrypto through jose. */
export function signAssertion(claims: JWTPayload, signing: AssertionSigningKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'JWT' }).sign(signing.key);
}
