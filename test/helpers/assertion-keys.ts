import { exportJWK, generateKeyPair, type JWK } from 'jose';

/** A private signing key as the identity assertion's secret holds it: a JWK with its `kid`. */
export async function assertionKey(alg: 'ES256' | 'Ed25519', kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return { ...(await exportJWK(privateKey)), kid };
}

/** The secret's text: a JWK Set of these keys, in order (the first signs). */
export function keySet(...keys: readonly JWK[]): string {
  return JSON.stringify({ keys });
}

/** The public members a JWKS may show of a key; anything else (`d`, `p`, `k`, …) is private. */
export const PUBLIC_JWK_MEMBERS = new Set(['kty', 'crv', 'x', 'y', 'kid', 'alg', 'use']);
