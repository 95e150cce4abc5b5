import type { JWTPayload } from 'jose';
import { PARSED_HEADER_CACHE_MAX_ENTRIES } from '../constants.ts';
import { VerifierError } from '../errors.ts';
import { BASE64URL_VALUE, base64urlToBinary, base64urlToBytesChecked } from '../shared/base64url.ts';
import { parseStrictJsonObject } from '../shared/strict-json.ts';

/** Claims deeper than this are not access tokens; deep nesting only costs parse time (CVE-2025-53864 class). */
const MAX_JSON_DEPTH = 16;

/**
 * The signing input: two segments of base64url characters and nothing else. `atob` skips
 * whitespace and accepts `=` padding, so this is what keeps one token to one spelling; the
 * signature segment is held to the same by its checked decoding.
 */
const SIGNING_INPUT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

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
 * base64 and UTF-8 decoders) and only the duplicate count is ours, and a header seen before is
 * not parsed again.
 * Returns what it parsed, for the signature check (the header, where the signing input ends and
 * the signature's bytes) and after it (the claims, which nobody has verified yet).
 */
export function parseTokenShape(token: string): TokenShape {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || !SIGNING_INPUT.test(token.slice(0, second))) throw new VerifierError('malformed_token');
  const canonical =
    hasCanonicalEnd(token, 0, first) &&
    hasCanonicalEnd(token, first + 1, second) &&
    second + 1 < token.length &&
    hasCanonicalEnd(token, second + 1, token.length);
  // Decoded here, once: a third `.`, whitespace or padding in it leaves it undecodable.
  const signature = canonical ? base64urlToBytesChecked(token, second + 1) : undefined;
  if (signature === undefined) throw new VerifierError('malformed_token');
  const header = protectedHeaderOf(token.slice(0, first));
  const payload = decodeText(token.slice(first + 1, second));
  if (payload === undefined) throw new VerifierError('malformed_token');
  return { header, claims: strictJsonObject(payload), signingInputEnd: second, signature };
}

/** Flat protected headers parsed before, by their segment (`PARSED_HEADER_CACHE_MAX_ENTRIES`). */
const parsedHeaders = new Map<string, Readonly<Record<string, unknown>>>();

/**
 * A JWS protected header, a strict JSON object. One whose members are all plain values (an
 * access token's `alg`, `kid`, `typ`) is remembered, frozen, by its exact text: the same bytes
 * parse to the same object, and most tokens carry one of their issuer's few headers. One that
 * holds an object (a DPoP proof's `jwk`, one per client) is parsed each time and not kept.
 */
function protectedHeaderOf(segment: string): Readonly<Record<string, unknown>> {
  const known = parsedHeaders.get(segment);
  if (known !== undefined) return known;
  const text = decodeText(segment);
  if (text === undefined) throw new VerifierError('malformed_token');
  const header = strictJsonObject(text);
  // RFC 7797 unencoded payloads are never valid for a JWT (RFC 7797 §7); a `b64` member without
  // `crit` would be read differently by verifiers that do and do not know it, so refuse it outright.
  if ('b64' in header) throw new VerifierError('malformed_token');
  if (Object.values(header).some((value) => typeof value === 'object' && value !== null)) return header;
  if (parsedHeaders.size >= PARSED_HEADER_CACHE_MAX_ENTRIES) parsedHeaders.clear();
  parsedHeaders.set(segment, Object.freeze(header));
  return header;
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
  /** The signature segment's bytes (their length is not checked against the `alg` yet). */
  readonly signature: Uint8Array;
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
