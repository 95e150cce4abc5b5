import { isB64token } from '../credentials/authorization.ts';
import { VerifierError } from '../errors.ts';
import { looksLikeJose, looksLikeJwe, parseJweHeader, parseTokenShape, type TokenShape } from './token-shape.ts';

/** A token as sent, opened as far as can be without a key: a signed token, or an encrypted one. */
export type OpenedToken =
  | { readonly kind: 'jws'; readonly shape: TokenShape }
  | { readonly kind: 'jwe'; readonly header: Readonly<Record<string, unknown>> }
  /** Not a JOSE object at all: only an introspecting issuer can say what it is; elsewhere, `refusal`. */
  | { readonly kind: 'opaque'; readonly refusal: VerifierError };

/**
 * What kind of token this is. A JWS gets the shape check; only a token that fails it is looked
 * at again as a JWE or an opaque token, so the signed path pays nothing for either. A token that is
 * neither, and is not even a b64token (RFC 6750 §2.1), is a malformed request (400), not a bad
 * token (401).
 */
export function openToken(token: string): OpenedToken {
  try {
    return { kind: 'jws', shape: parseTokenShape(token) };
  } catch (error) {
    if (looksLikeJwe(token)) return { kind: 'jwe', header: parseJweHeader(token) };
    if (!(error instanceof VerifierError && error.code === 'malformed_token')) throw error;
    if (!isB64token(token)) throw new VerifierError('malformed_authorization');
    // A broken JWS or JWE is refused as one, and never sent to an introspection endpoint.
    if (looksLikeJose(token)) throw error;
    return { kind: 'opaque', refusal: error };
  }
}
