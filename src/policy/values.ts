import { ALGORITHM_ALIASES, HMAC_ALGORITHMS, SUPPORTED_ALGORITHMS } from '../constants.ts';
import { ConfigError } from '../errors.ts';
import { isSafeKeySourceUrl } from './url-safety.ts';

/**
 * Checks shared by the flat variables and POLICY. `name` is what an error names: a variable
 * (`ISSUER`) or a path into the policy (`POLICY.issuers.corp.issuer`).
 */

export function parseUrl(name: string, value: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new ConfigError(name, 'is not a valid absolute URL');
  }
}

/** An issuer or JWKS URL: keys fetched over plain http could be swapped on the path. */
export function keySourceUrl(name: string, value: string): string {
  if (!isSafeKeySourceUrl(parseUrl(name, value))) {
    throw new ConfigError(name, 'must be an https URL (http is allowed only on loopback hosts)');
  }
  return value;
}

/** An origin base URL, without its trailing slash: the request's path and query are appended. */
export function parseOrigin(name: string, text: string): string {
  const url = parseUrl(name, text);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigError(name, 'must be an http or https URL');
  // A bare `?` or `#` leaves search and hash empty but stays in href, where the request's path would follow it.
  if (/[?#]/.test(text)) throw new ConfigError(name, 'must not have a query or fragment');
  return url.href.replace(/\/+$/, '');
}

/**
 * An issuer's accepted algorithms. HS256/384/512 only with its `hmac_secret`; never `none`, and
 * no HMAC without a secret: a JWKS holds public keys only.
 */
export function parseAlgorithms(name: string, algorithms: readonly string[], hmacSecret?: string): readonly string[] {
  for (const [i, alg] of algorithms.entries()) {
    if (hmacSecret !== undefined && Object.hasOwn(HMAC_ALGORITHMS, alg)) continue;
    if (alg.toLowerCase() === 'none' || /^HS/i.test(alg)) {
      throw new ConfigError(
        name.startsWith('POLICY.') ? `${name}[${i}]` : name,
        alg.toLowerCase() === 'none'
          ? 'must not contain none'
          : `must not contain ${alg} without hmac_secret: a JWKS holds public keys only`,
      );
    }
    if (!SUPPORTED_ALGORITHMS.includes(alg)) {
      throw new ConfigError(name, `contains unsupported algorithm (supported: ${SUPPORTED_ALGORITHMS.join(', ')})`);
    }
  }
  if (algorithms.length === 0) throw new ConfigError(name, 'must name at least one algorithm');
  const aliases = algorithms.flatMap((alg) => ALGORITHM_ALIASES[alg] ?? []);
  return [...new Set([...algorithms, ...aliases])];
}

/** The realm is written into a quoted-string; refuse what would need escaping rather than escape it. */
export function parseRealm(name: string, text: string): string {
  if (!/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/.test(text)) {
    throw new ConfigError(name, 'must be printable ASCII without quotes or backslashes');
  }
  return text;
}

/** RFC 6749 §3.3 scope-token characters, so each scope can be quoted into a challenge as is. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function parseScopes(name: string, scopes: readonly string[]): readonly string[] {
  if (scopes.some((scope) => !SCOPE_TOKEN.test(scope))) {
    throw new ConfigError(name, 'contains a character not allowed in a scope (RFC 6749 §3.3)');
  }
  return scopes;
}

/** A whole number of seconds in [min, max], from a variable's text. */
export function wholeSeconds(name: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new ConfigError(name, 'must be a whole number of seconds');
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
  return value;
}

/** RFC 9068 §4: `typ` compares case-insensitively, and `application/` may be left out. */
export function normalizeTokenType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}
