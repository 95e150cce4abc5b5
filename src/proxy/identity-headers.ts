import { claimAt } from '../auth/claim-path.ts';
import type { HeaderMapping } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { IDENTITY_SIGNATURE_HEADER } from '../identity/signature.ts';
import { AUTH_HEADER_PREFIX, NOT_FORWARDED } from './headers.ts';

/** RFC 9110 §5.6.2 token characters. */
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Names a mapping may never take: they carry the client's credentials, the connection, or our own identity. */
const RESERVED = new Set([
  'authorization',
  IDENTITY_SIGNATURE_HEADER,
  `${AUTH_HEADER_PREFIX}subject`,
  `${AUTH_HEADER_PREFIX}claims`,
]);

/**
 * Names the runtime or Cloudflare's network sets, rewrites or drops on the way to the origin
 * (framing, `Expect`, client-address and `cf-*` headers): a claim there would not arrive as
 * signed, or would pose as the network's own word.
 */
const MANAGED = new Set([
  'content-length',
  'expect',
  'cdn-loop',
  'true-client-ip',
  'x-real-ip',
  'x-forwarded-for',
  'x-forwarded-proto',
]);

/** A mapped header's name, lower-cased; refuses names that would break the request or our identity headers. */
export function checkMappedHeaderName(at: string, header: string): string {
  if (!FIELD_NAME.test(header)) throw new ConfigError(at, 'is not a valid header name (RFC 9110 token)');
  const name = header.toLowerCase();
  if (NOT_FORWARDED.has(name)) throw new ConfigError(at, 'is a hop-by-hop or host header');
  if (RESERVED.has(name))
    throw new ConfigError(at, 'is reserved for the credentials or edge-verifier’s own identity headers');
  if (MANAGED.has(name) || name.startsWith('cf-')) {
    throw new ConfigError(at, 'is set or rewritten by the runtime or Cloudflare on the way to the origin');
  }
  return name;
}

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
