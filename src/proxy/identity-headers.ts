import type { HeaderMapping } from '../config.ts';
import { claimAt } from '../shared/claim-path.ts';

/**
 * A value that a header carries exactly: visible ASCII, inner spaces allowed. CR, LF, NUL and
 * every other control or non-ASCII character fail, and so do leading or trailing spaces, which
 * `Headers` would trim (changing what was signed).
 */
const HEADER_SAFE = /^(?:[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?)?$/;

export function isHeaderSafe(value: string): boolean {
  return HEADER_SAFE.test(value);
}

/** JSON with every non-ASCII character as a `\uXXXX` escape: still the same JSON value, and always header-safe. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * A claim rendered for a header, or `undefined` for no header: absent claims set none, and a
 * string that cannot be carried exactly (non-ASCII, control characters) is left out rather
 * than altered; the origin still has it in X-Auth-Claims. JSON output is always ASCII.
 */
export function renderClaim(value: unknown, format: HeaderMapping['format']): string | undefined {
  if (value === undefined) return undefined;
  let text: string;
  if (format === 'json') text = asciiJson(value);
  else if (typeof value === 'string') text = value;
  else if (format === 'csv' && Array.isArray(value)) {
    text = value.map((item) => (typeof item === 'string' ? item : asciiJson(item))).join(',');
  } else text = asciiJson(value);
  return isHeaderSafe(text) ? text : undefined;
}

/** Sets each mapped claim the token carries as a header. */
export function setMappedHeaders(
  headers: Headers,
  claims: Record<string, unknown>,
  mappings: readonly HeaderMapping[],
): void {
  for (const mapping of mappings) {
    const value = renderClaim(claimAt(claims, mapping.claim), mapping.format);
    if (value !== undefined) headers.set(mapping.name, value);
  }
}
