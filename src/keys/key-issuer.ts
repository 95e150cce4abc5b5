/**
 * The `issuer` member a JWKS key may carry (Microsoft Entra's keys do, with `{tenantid}` in it):
 * remembered per imported key, so the token step can hold a key to the tokens of its issuer.
 */
const issuers = new WeakMap<CryptoKey, unknown>();

export function noteKeyIssuer(key: CryptoKey, issuer: unknown): void {
  if (issuer !== undefined) issuers.set(key, issuer);
}

/** The key's own `issuer` member; `undefined` when its JWK had none. */
export function keyIssuerOf(key: CryptoKey): unknown {
  return issuers.get(key);
}
