import { calculateJwkThumbprint, compactVerify, importJWK, type JWK } from 'jose';
import {
  DPOP_PROOF_MAX_AGE_SECONDS,
  DPOP_PROOF_MAX_FUTURE_SECONDS,
  DPOP_PROOF_MAX_LENGTH_BYTES,
} from '../constants.ts';
import { VerifierError } from '../errors.ts';
import { keyFitsAlgorithm, unusableKeyReason } from '../keys/remote/key-policy.ts';
import { bytesToBase64url } from '../shared/base64url.ts';
import { sha256 } from '../shared/digest.ts';
import { parseTokenShape } from '../token/token-shape.ts';

/** What a proof is checked against: this request, and the access token it came with. */
export interface ProofContext {
  readonly method: string;
  readonly url: URL;
  readonly accessToken: string;
  /** The proof algorithms accepted (the issuer's `algorithms`: asymmetric only). */
  readonly algorithms: readonly string[];
  /** Epoch milliseconds. */
  readonly now: number;
}

/** A proof that passed: the key it proved, by RFC 7638 thumbprint, and its id for replay detection. */
export interface ProvenKey {
  readonly jkt: string;
  readonly jti: string;
  /** The proof's `nonce` claim, checked by the caller when it issues nonces (RFC 9449 §9). */
  readonly nonce: unknown;
}

const invalid = (detail: string) => new VerifierError('invalid_dpop_proof', detail);

/**
 * RFC 9449 §4.3: one `DPoP` header holding a JWT with `typ` `dpop+jwt`, an allowed asymmetric
 * `alg`, a public `jwk` that fits it and verifies the signature; `htm` this method, `htu` this URL
 * without query and fragment, `iat` within the window, a `jti`, and `ath` the hash of this access
 * token (§4.3 step 12, §7.1). The details are for logs; the client sees a fixed description.
 */
export async function verifyDpopProof(header: string | null, context: ProofContext): Promise<ProvenKey> {
  if (header === null) throw invalid('no DPoP header');
  // Headers joins two DPoP headers with ", "; a compact JWT holds no comma.
  if (header.includes(',')) throw invalid('more than one DPoP header');
  if (header.length > DPOP_PROOF_MAX_LENGTH_BYTES) throw invalid('proof too large');
  let shape: ReturnType<typeof parseTokenShape>;
  try {
    shape = parseTokenShape(header.trim());
  } catch {
    throw invalid('not a compact JWS');
  }
  const { header: protectedHeader, claims } = shape;
  if (protectedHeader.typ !== 'dpop+jwt') throw invalid('typ is not dpop+jwt');
  const { alg } = protectedHeader;
  if (typeof alg !== 'string' || !context.algorithms.includes(alg)) throw invalid('alg not allowed');
  const jwk = protectedHeader.jwk as JWK | undefined;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalid('no jwk');
  // A private member in the header is the client's mistake, and never a key we verify with.
  if (unusableKeyReason(jwk) !== undefined || !keyFitsAlgorithm(jwk, alg)) throw invalid('jwk unusable for alg');
  try {
    await compactVerify(header.trim(), await importJWK(jwk, alg), { algorithms: [alg] });
  } catch {
    throw invalid('signature');
  }
  await checkProofClaims(claims, context);
  return { jkt: await calculateJwkThumbprint(jwk, 'sha256'), jti: claims.jti as string, nonce: claims.nonce };
}

async function checkProofClaims(claims: Record<string, unknown>, context: ProofContext): Promise<void> {
  const { jti, htm, htu, iat, ath } = claims;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 256) throw invalid('jti');
  if (htm !== context.method) throw invalid('htm');
  if (typeof htu !== 'string' || normalisedTarget(htu) !== normalisedTarget(context.url.href)) throw invalid('htu');
  const nowSeconds = context.now / 1000;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) throw invalid('iat');
  if (iat < nowSeconds - DPOP_PROOF_MAX_AGE_SECONDS || iat > nowSeconds + DPOP_PROOF_MAX_FUTURE_SECONDS) {
    throw invalid('iat outside the window');
  }
  if (typeof ath !== 'string') throw invalid('no ath');
  // base64url(SHA-256(ASCII(token))), RFC 9449 §4.2.
  if (ath !== bytesToBase64url(await sha256(context.accessToken))) throw invalid('ath');
}

/**
 * RFC 9449 §4.3 step 9: `htu` without query and fragment, compared after RFC 3986 §6 syntax-based
 * normalisation (the URL parser's: scheme and host case, default port, dot segments).
 */
function normalisedTarget(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  // A target URI with userinfo is not one a client of this API sends (RFC 9110 §4.2.4).
  if (url.username || url.password) return undefined;
  return `${url.protocol}//${url.host}${url.pathname}`;
}
