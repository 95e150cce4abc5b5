/**
 * The soak's signing keys and the tokens it sends. The soak holds the private keys and signs
 * with jose as an issuer would; the dev issuer only serves the JWKS the soak publishes.
 * `old` signs first; `next` is published beside it, then signs; then `old` is withdrawn.
 * `foreign` is never published: it forges signatures and signs tokens whose kid is unknown.
 */
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';

const ALG = 'RS256';
export const AUDIENCE = 'soak-api';
/** A valid token outlives the longest run; an expired one is past the Worker's 60 s clock skew. */
const VALID_FOR_SECONDS = 3_600;
const EXPIRED_SINCE_SECONDS = 3_600;

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function makeKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' } };
}

/** Makes the issuer serve exactly these public keys from now on (`PUT /t/<id>/jwks`). */
export async function publishJwks(jwksUri: string, keys: readonly SigningKey[]): Promise<void> {
  const response = await fetch(jwksUri, {
    method: 'PUT',
    body: JSON.stringify({ keys: keys.map((key) => key.publicJwk) }),
  });
  if (response.status !== 204) throw new Error(`publishing the JWKS failed: ${response.status}`);
}

export interface TokenOptions {
  readonly issuer: string;
  readonly subject: string;
  /** The key whose kid the header names. */
  readonly key: SigningKey;
  /** The key that signs, when not `key` (a forgery). */
  readonly signer?: SigningKey;
  /** The kid the header names instead of `key`'s (an unknown kid). */
  readonly kid?: string;
  readonly expired?: boolean;
}

export async function signToken(options: TokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const issuedAt = options.expired ? now - 2 * EXPIRED_SINCE_SECONDS : now;
  const claims: JWTPayload = {
    iss: options.issuer,
    aud: AUDIENCE,
    sub: options.subject,
    scope: 'read write',
    iat: issuedAt,
    exp: options.expired ? now - EXPIRED_SINCE_SECONDS : now + VALID_FOR_SECONDS,
    jti: crypto.randomUUID(),
  };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALG, kid: options.kid ?? options.key.kid, typ: 'at+jwt' })
    .sign((options.signer ?? options.key).privateKey);
}

/** The payload segment: what the Worker must send the origin as X-Auth-Claims. */
export function payloadSegment(token: string): string {
  return token.split('.')[1] ?? '';
}
