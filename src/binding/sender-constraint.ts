import type { JWTPayload } from 'jose';
import { VerifierError } from '../errors.ts';
import { base64urlToBytes } from '../shared/base64url.ts';

/** The confirmation methods (RFC 7800 §3.1 `cnf` members) this verifier can check. */
const CHECKED_CONFIRMATIONS = new Set(['x5t#S256', 'jkt']);

/** What Cloudflare says of the connection's client certificate (`request.cf.tlsClientAuth`), as far as it is read here. */
interface ClientCertificate {
  readonly certVerified?: unknown;
  readonly certRevoked?: unknown;
  readonly certFingerprintSHA256?: unknown;
}

/**
 * A token bound to its sender is good only from that sender (RFC 7800 `cnf`). RFC 8705 §3: a
 * certificate-bound token (`cnf["x5t#S256"]`) needs a client certificate that Cloudflare verified
 * on this connection, not revoked, whose SHA-256 fingerprint is that thumbprint. RFC 9449 §7.1: a
 * DPoP-bound token (`cnf.jkt`) needs the DPoP proof of that key (`dpopJkt`, proven already), and
 * a proof needs a token bound to its key. A binding this verifier cannot check (`jwk`, `kid`,
 * `jku`, `jwe`) is refused: taken as a bearer token, the binding the issuer asked for would be
 * lost. Runs on every request, the verified-token cache's too: the token may be the same, the
 * connection is not.
 */
export function checkSenderConstraint(claims: JWTPayload, request: Request, dpopJkt?: string): void {
  const cnf = claims.cnf;
  // RFC 9449 §7.1: a DPoP proof is for a DPoP-bound token, and proves that token's key only.
  if (dpopJkt !== undefined && (cnf as { jkt?: unknown } | undefined)?.jkt !== dpopJkt) {
    throw new VerifierError('dpop_key_mismatch');
  }
  if (cnf === undefined) return;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) {
    throw new VerifierError('invalid_claims', 'cnf is not an object');
  }
  const members = Object.keys(cnf);
  const unchecked = members.find((member) => !CHECKED_CONFIRMATIONS.has(member));
  if (unchecked !== undefined) throw new VerifierError('unsupported_binding', `cnf.${unchecked}`);
  const confirmation = cnf as Record<string, unknown>;
  if ('jkt' in confirmation && dpopJkt === undefined) throw new VerifierError('dpop_bound_token');
  if (!('x5t#S256' in confirmation)) return;
  const thumbprint = confirmation['x5t#S256'];
  const certificate = clientCertificate(request);
  if (certificate?.certVerified !== 'SUCCESS' || certificate.certRevoked === '1') {
    throw new VerifierError('certificate_mismatch', 'no verified client certificate');
  }
  if (!sameFingerprint(thumbprint, certificate.certFingerprintSHA256)) throw new VerifierError('certificate_mismatch');
}

function clientCertificate(request: Request): ClientCertificate | undefined {
  const cf = (request as { cf?: { tlsClientAuth?: ClientCertificate } }).cf;
  return cf?.tlsClientAuth ?? undefined;
}

/** `x5t#S256` is base64url of the 32-byte digest (RFC 8705 §3.1); Cloudflare gives it as 64 hex digits. */
function sameFingerprint(thumbprint: unknown, hex: unknown): boolean {
  if (typeof thumbprint !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(thumbprint)) return false;
  if (typeof hex !== 'string' || !/^[0-9a-f]{64}$/i.test(hex)) return false;
  let digest: Uint8Array;
  try {
    digest = base64urlToBytes(thumbprint);
  } catch {
    return false;
  }
  if (digest.length !== 32) return false;
  let differ = 0;
  for (let i = 0; i < 32; i++) differ |= (digest[i] as number) ^ Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return differ === 0;
}
