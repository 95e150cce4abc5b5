import type { JWTPayload } from 'jose';
import { VerifierError } from '../errors.ts';
import { BASE64URL_VALUE, base64urlToBinary } from '../shared/base64url.ts';
import { parseStrictJsonObject } from '../shared/strict-json.ts';

/** Claims deeper than this are not access tokens; deep nesting only costs parse time (CVE-2025-53864 class). */
const MAX_JSON_DEPTH = 16;

/**
 * Three segments of base64url characters and nothing else. `atob` skips whitespace and
 * accepts `=` padding, so this is what keeps one token to one spelling.
 */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Bits of the last character that encode nothing, by length % 4: 2 (or 3) leftover characters leave 4 (or 2). */
const UNUSED_BITS = [0, 0, 0xf, 0x3] as const;

/** A byte outside ASCII in a binary string (one char per byte, so nothing above \xff). */
const NON_ASCII = /[\x80-\xff]/;

/** `ignoreBOM` keeps a BOM in the text, so that JSON.parse refuses it rather than it vanishing silently. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Checks what jose is lenient about before it sees the token: exactly three canonical base64url
 * segments (RFC 7515 §2: no padding, no stray bits, so one token has one spelling), header and
 * payload strict UTF-8 JSON objects without duplicate member names (RFC 7515 §5.2 lets a
 * verifier reject them; two parsers disagreeing on `{"alg":"RS256","alg":"none"}` is an attack)
 * and without deep nesting. It runs on every unverified token, so the scans are native (regex,
 * base64 and UTF-8 decoders) and only the duplicate count is ours.
 * Returns what it parsed, for the signature check (the header, and where the signing input ends)
 * and after it (the claims, which nobody has verified yet).
 */
export function parseTokenShape(token: string): TokenShape {
  if (!COMPACT_JWS.test(token)) throw new VerifierError('malformed_token');
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  // jose decodes the signature itself; here it only has to be canonical, like the other two.
  const canonical =
    hasCanonicalEnd(token, 0, first) &&
    hasCanonicalEnd(token, first + 1, second) &&
    hasCanonicalEnd(token, second + 1, token.length);
  if (!canonical) throw new VerifierError('malformed_token');
  const header = decodeText(token.slice(0, first));
  const payload = decodeText(token.slice(first + 1, second));
  if (header === undefined || payload === undefined) throw new VerifierError('malformed_token');
  // RFC 7797 unencoded payloads are never valid for a JWT (RFC 7797 §7); a `b64` member without
  // `crit` would be read differently by verifiers that do and do not know it, so refuse it outright.
  const protectedHeader = strictJsonObject(header);
  if ('b64' in protectedHeader) throw new VerifierError('malformed_token');
  return { header: protectedHeader, claims: strictJsonObject(payload), signingInputEnd: second };
}

/** Five segments (RFC 7516 §7.1); the encrypted key is empty for direct key agreement (ECDH-ES). */
const COMPACT_JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Whether the token has the form of a compact JWE (an encrypted token); nothing else is checked. */
export function looksLikeJwe(token: string): boolean {
  return COMPACT_JWE.test(token);
}

/**
 * The protected header of a compact JWE, held to the same rules as a JWS's: five canonical
 * base64url segments, the header a strict UTF-8 JSON object without duplicate members.
 */
export function parseJweHeader(token: string): Readonly<Record<string, unknown>> {
  if (!COMPACT_JWE.test(token)) throw new VerifierError('malformed_token');
  let start = 0;
  for (let end = token.indexOf('.'); ; end = token.indexOf('.', start)) {
    const stop = end < 0 ? token.length : end;
    if (stop > start && !hasCanonicalEnd(token, start, stop)) throw new VerifierError('malformed_token');
    if (end < 0) break;
    start = end + 1;
  }
  const header = decodeText(token.slice(0, token.indexOf('.')));
  if (header === undefined) throw new VerifierError('malformed_token');
  return strictJsonObject(header);
}

/**
 * Whether a token that failed the shape checks still presents itself as a JOSE object: three or
 * five dot-separated segments whose first is base64url JSON with an `alg`. Such a token is a
 * broken JWS or JWE, refused as one; anything else is an opaque token (RFC 7662 introspection).
 */
export function looksLikeJose(token: string): boolean {
  const first = token.indexOf('.');
  if (first <= 0) return false;
  const segments = token.split('.').length;
  if (segments !== 3 && segments !== 5) return false;
  const headerSegment = token.slice(0, first);
  if (!/^[A-Za-z0-9_-]+$/.test(headerSegment) || headerSegment.length % 4 === 1) return false;
  try {
    const text = decodeText(headerSegment);
    if (text === undefined) return false;
    const header: unknown = JSON.parse(text);
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

/** A token that passed the shape check, nothing of it verified yet. */
export interface TokenShape {
  /** The protected header: a JSON object without duplicate members or `b64`. */
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: JWTPayload;
  /** Index of the second `.`: the signing input is `token[0, signingInputEnd)`, the signature follows it. */
  readonly signingInputEnd: number;
}

/**
 * Whether base64url characters `text[start, end)` end canonically: a length that encodes whole
 * bytes, and zero in the bits of the last character that encode nothing.
 */
function hasCanonicalEnd(text: string, start: number, end: number): boolean {
  const leftover = (end - start) % 4;
  if (leftover === 1) return false;
  return ((BASE64URL_VALUE[text.charCodeAt(end - 1)] as number) & (UNUSED_BITS[leftover] as number)) === 0;
}

/**
 * The text a base64url segment encodes, or `undefined` when it is not strict UTF-8. `atob` (in
 * every runtime the middleware may run in, unlike `Uint8Array.fromBase64`) gives one char per
 * byte; nearly every header and payload is ASCII, and then that string is the text already.
 */
function decodeText(segment: string): string | undefined {
  const binary = base64urlToBinary(segment);
  if (!NON_ASCII.test(binary)) return binary;
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

function strictJsonObject(text: string): Record<string, unknown> {
  const value = parseStrictJsonObject(text, MAX_JSON_DEPTH);
  if (value === undefined) throw new VerifierError('malformed_token');
  return value;
}
