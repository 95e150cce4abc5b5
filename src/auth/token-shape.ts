import { VerifierError } from '../errors.ts';

/** Claims deeper than this are not access tokens; deep nesting only costs parse time (CVE-2025-53864 class). */
const MAX_JSON_DEPTH = 16;

/** base64url alphabet value per char code, -1 for anything else (RFC 4648 §5). */
const BASE64URL_VALUE = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) {
  BASE64URL_VALUE[c.charCodeAt(0)] = i;
}

/** `ignoreBOM` keeps a BOM in the text, so that JSON.parse refuses it rather than it vanishing silently. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Checks what jose is lenient about before it sees the token: exactly three canonical base64url
 * segments (RFC 7515 §2: no padding, no stray bits, so one token has one spelling), header and
 * payload strict UTF-8 JSON objects without duplicate member names (RFC 7515 §5.2 lets a
 * verifier reject them; two parsers disagreeing on `{"alg":"RS256","alg":"none"}` is an attack)
 * and without deep nesting. It runs on every unverified token, so it decodes by hand in one pass.
 */
export function assertTokenShape(token: string): void {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 0 || second < 0 || token.indexOf('.', second + 1) >= 0) throw new VerifierError('malformed_token');
  const header = decodeBase64url(token, 0, first);
  const payload = decodeBase64url(token, first + 1, second);
  if (!header || !payload || !decodeBase64url(token, second + 1, token.length)) {
    throw new VerifierError('malformed_token');
  }
  // RFC 7797 unencoded payloads are never valid for a JWT (RFC 7797 §7); a `b64` member without
  // `crit` would be read differently by verifiers that do and do not know it, so refuse it outright.
  if ('b64' in strictJsonObject(header)) throw new VerifierError('malformed_token');
  strictJsonObject(payload);
}

/** Bytes of `text[start, end)` as canonical base64url without padding, or `undefined`. */
function decodeBase64url(text: string, start: number, end: number): Uint8Array | undefined {
  const length = end - start;
  if (length === 0 || length % 4 === 1) return undefined;
  const bytes = new Uint8Array((length * 3) >> 2);
  let buffer = 0;
  let bits = 0;
  let out = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (BASE64URL_VALUE[code] as number) : -1;
    if (value < 0) return undefined;
    buffer = ((buffer << 6) | value) & 0xfff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes[out++] = (buffer >> bits) & 0xff;
    }
  }
  // Leftover bits encode nothing; a canonical encoding leaves them zero.
  return (buffer & ((1 << bits) - 1)) === 0 ? bytes : undefined;
}

function strictJsonObject(bytes: Uint8Array): object {
  let text: string;
  let value: unknown;
  try {
    text = STRICT_UTF8.decode(bytes);
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
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      let end = i + 1;
      let escaped = false;
      for (let c = text.charCodeAt(end); c !== QUOTE; c = text.charCodeAt(end)) {
        if (c === BACKSLASH) {
          escaped = true;
          end++;
        }
        end++;
      }
      const object = stack[stack.length - 1];
      if (object?.expectKey) {
        // Decoding makes "\u0061lg" and "alg" the same member, as every parser sees them.
        const key = escaped ? (JSON.parse(text.slice(i, end + 1)) as string) : text.slice(i + 1, end);
        if (object.keys.has(key)) return true;
        object.keys.add(key);
        object.expectKey = false;
      }
      i = end;
    } else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      stack.push(code === 0x7b ? { keys: new Set(), expectKey: true } : null);
      if (stack.length > maxDepth) return true;
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) {
      stack.pop();
    } else if (code === 0x2c /* , */) {
      const object = stack[stack.length - 1];
      if (object) object.expectKey = true;
    }
  }
  return false;
}
