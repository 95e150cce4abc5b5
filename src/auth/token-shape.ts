import { VerifierError } from '../errors.ts';

/** Claims deeper than this are not access tokens; deep nesting only costs parse time (CVE-2025-53864 class). */
const MAX_JSON_DEPTH = 16;

const BASE64URL_VALUE = new Map(
  [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].map((c, i) => [c, i]),
);

/**
 * Checks what jose is lenient about before it sees the token: exactly three canonical base64url
 * segments (RFC 7515 §2: no padding, no stray bits, so one token has one spelling), header and
 * payload strict UTF-8 JSON objects without duplicate member names (RFC 7515 §5.2 lets a
 * verifier reject them; two parsers disagreeing on `{"alg":"RS256","alg":"none"}` is an attack)
 * and without deep nesting.
 */
export function assertTokenShape(token: string): void {
  const segments = token.split('.');
  if (segments.length !== 3) throw new VerifierError('malformed_token');
  const [header = '', payload = '', signature = ''] = segments;
  if (!isCanonicalBase64url(header) || !isCanonicalBase64url(payload) || !isCanonicalBase64url(signature)) {
    throw new VerifierError('malformed_token');
  }
  // RFC 7797 unencoded payloads are never valid for a JWT (RFC 7797 §7); a `b64` member without
  // `crit` would be read differently by verifiers that do and do not know it, so refuse it outright.
  if ('b64' in assertStrictJsonObject(header)) throw new VerifierError('malformed_token');
  assertStrictJsonObject(payload);
}

function isCanonicalBase64url(segment: string): boolean {
  if (segment.length === 0 || segment.length % 4 === 1 || !/^[A-Za-z0-9_-]+$/.test(segment)) return false;
  const last = BASE64URL_VALUE.get(segment[segment.length - 1] as string) as number;
  const unusedBitsMask = segment.length % 4 === 2 ? 0b1111 : segment.length % 4 === 3 ? 0b11 : 0;
  return (last & unusedBitsMask) === 0;
}

function assertStrictJsonObject(segment: string): object {
  let text: string;
  let value: unknown;
  try {
    const binary = atob(segment.replace(/-/g, '+').replace(/_/g, '/'));
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
    value = JSON.parse(text);
  } catch {
    throw new VerifierError('malformed_token');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new VerifierError('malformed_token');
  if (hasDuplicateKeysOrDepth(text, MAX_JSON_DEPTH)) throw new VerifierError('malformed_token');
  return value;
}

/** Scans text that `JSON.parse` has already accepted, so it can trust the syntax. */
function hasDuplicateKeysOrDepth(text: string, maxDepth: number): boolean {
  const stack: ({ keys: Set<string>; expectKey: boolean } | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const object = stack[stack.length - 1];
      if (object?.expectKey) {
        // Decoding makes "\u0061lg" and "alg" the same member, as every parser sees them.
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (object.keys.has(key)) return true;
        object.keys.add(key);
        object.expectKey = false;
      }
      i = end;
    } else if (c === '{' || c === '[') {
      stack.push(c === '{' ? { keys: new Set(), expectKey: true } : null);
      if (stack.length > maxDepth) return true;
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const object = stack[stack.length - 1];
      if (object) object.expectKey = true;
    }
  }
  return false;
}
