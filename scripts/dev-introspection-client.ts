/** The client the dev issuer's introspection endpoint answers (RFC 7662 §2.1 asks the caller to authenticate). */
export const DEV_INTROSPECTION_CLIENT = { id: 'edge-verifier', secret: 'dev-introspection-secret' } as const;
