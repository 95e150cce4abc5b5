/** base64url alphabet value per char code (-1: not in the alphabet). */
export const BASE64URL_VALUE = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) {
  BASE64URL_VALUE[c.charCodeAt(0)] = i;
}

/**
 * The bytes base64url `text` encodes, one char per byte (a "binary string"). The caller has
 * already checked that `text` is base64url characters only, of a length that is not 4n+1:
 * `atob` would skip whitespace and accept padding, which a base64url value must not hold.
 */
export function base64urlToBinary(text: string): string {
  return atob(text.replaceAll('-', '+').replaceAll('_', '/'));
}

type FromBase64 = (text: string, options: { readonly alphabet: 'base64url' }) => Uint8Array;

/** TC39's `Uint8Array.fromBase64`, native where the runtime has it (workerd does; Node 20 does not). */
const nativeFromBase64 = (Uint8Array as unknown as { readonly fromBase64?: FromBase64 }).fromBase64;

/**
 * The bytes of `text[start, end)`, base64url characters only, of a length that is not 4n+1
 * (the caller has checked both): natively where the runtime can, else in JS.
 */
export function base64urlToBytes(text: string, start = 0, end = text.length): Uint8Array {
  if (nativeFromBase64 === undefined) return base64urlToBytesInJs(text, start, end);
  return nativeFromBase64(start === 0 && end === text.length ? text : text.slice(start, end), {
    alphabet: 'base64url',
  });
}

/** The alphabet only: no whitespace and no `=`, which a base64 decoder skips or accepts. */
const BASE64URL_TEXT = /^[A-Za-z0-9_-]*$/;

/**
 * The bytes of `text[start, end)` when it is base64url characters only, of a length that is
 * not 4n+1; `undefined` otherwise. Natively, the decoder refuses any other character but skips
 * whitespace and accepts `=` padding, and each of those leaves fewer bytes than the length
 * encodes: a length check finds them without a second pass over the text.
 */
export function base64urlToBytesChecked(text: string, start = 0, end = text.length): Uint8Array | undefined {
  const length = end - start;
  if (length % 4 === 1) return undefined;
  const expected = (length * 3) >> 2;
  const segment = start === 0 && end === text.length ? text : text.slice(start, end);
  if (nativeFromBase64 === undefined) {
    return BASE64URL_TEXT.test(segment) ? base64urlToBytesInJs(segment) : undefined;
  }
  try {
    const bytes = nativeFromBase64(segment, { alphabet: 'base64url' });
    return bytes.length === expected ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** The same decoding in JS, straight from the string: no intermediate strings, one allocation, the result. */
export function base64urlToBytesInJs(text: string, start = 0, end = text.length): Uint8Array {
  const length = end - start;
  const bytes = new Uint8Array((length * 3) >> 2);
  let out = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const n = (value(text, i) << 18) | (value(text, i + 1) << 12) | (value(text, i + 2) << 6) | value(text, i + 3);
    bytes[out++] = n >> 16;
    bytes[out++] = (n >> 8) & 0xff;
    bytes[out++] = n & 0xff;
  }
  const rest = end - i;
  if (rest >= 2) {
    const n = (value(text, i) << 18) | (value(text, i + 1) << 12) | (rest === 3 ? value(text, i + 2) << 6 : 0);
    bytes[out++] = n >> 16;
    if (rest === 3) bytes[out++] = (n >> 8) & 0xff;
  }
  return bytes;
}

function value(text: string, i: number): number {
  return BASE64URL_VALUE[text.charCodeAt(i)] as number;
}

/** base64url without padding (RFC 7515 §2) of `bytes`: thumbprints, MACs, digests we send or compare. */
export function bytesToBase64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '');
}
