import { ConfigError } from '../errors.ts';
import { IDENTITY_SIGNATURE_HEADER } from '../identity/signature.ts';

/** RFC 9110 §7.6.1: connection-specific fields a proxy must not forward; `host` is the origin's own. */
export const NOT_FORWARDED: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** Prefix of the identity headers we set; any the client sent are removed so identity cannot be smuggled. */
export const AUTH_HEADER_PREFIX = 'x-auth-';

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
