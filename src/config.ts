import {
  DEFAULT_ALGORITHMS,
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_JWKS_CACHE_TTL_SECONDS,
  DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS,
  DEFAULT_REALM,
  MAX_JWKS_CACHE_TTL_SECONDS,
  MIN_JWKS_CACHE_TTL_SECONDS,
  SUPPORTED_ALGORITHMS,
} from './constants.ts';
import type { Env } from './env.ts';
import { ConfigError } from './errors.ts';
import { parsePathPattern } from './policy/path-pattern.ts';
import type { RouteRule } from './policy/route-policy.ts';
import { isSafeKeySourceUrl } from './policy/url-safety.ts';

export interface IssuerConfig {
  /** Exact expected `iss`. */
  readonly issuer: string;
  /** The token's `aud` must contain at least one of these. */
  readonly audiences: readonly string[];
  /** JWKS URL; `undefined` means discover it from the issuer's metadata. */
  readonly jwksUri: string | undefined;
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  readonly jwksCacheTtlSeconds: number;
  readonly jwksRefreshCooldownSeconds: number;
}

export interface Config {
  readonly issuers: readonly IssuerConfig[];
  readonly rules: readonly RouteRule[];
  /** Base URL of the origin, without a trailing slash; the gateway requires it, the middleware does not use it. */
  readonly origin: string | undefined;
  readonly realm: string;
}

type Vars = Omit<Env, 'JWKS_CACHE'>;

/** Turns the Worker's string variables into a validated `Config`; throws `ConfigError` naming the variable. */
export function parseConfig(vars: Vars): Config {
  const issuer = required(vars, 'ISSUER');
  const issuerUrl = parseUrl('ISSUER', issuer);
  if (!isSafeKeySourceUrl(issuerUrl)) {
    throw new ConfigError('ISSUER', 'must be an https URL (http is allowed only on loopback hosts)');
  }
  const jwksUri = optional(vars, 'JWKS_URI');
  if (jwksUri !== undefined && !isSafeKeySourceUrl(parseUrl('JWKS_URI', jwksUri))) {
    throw new ConfigError('JWKS_URI', 'must be an https URL (http is allowed only on loopback hosts)');
  }
  const audiences = list(required(vars, 'AUDIENCE'), ',');
  if (audiences.length === 0) throw new ConfigError('AUDIENCE', 'must name at least one audience');

  const issuerConfig: IssuerConfig = {
    issuer,
    audiences,
    jwksUri,
    algorithms: parseAlgorithms(optional(vars, 'ALGORITHMS')),
    clockSkewSeconds: integer(vars, 'CLOCK_SKEW_SECONDS', DEFAULT_CLOCK_SKEW_SECONDS, 0, 600),
    jwksCacheTtlSeconds: integer(
      vars,
      'JWKS_CACHE_TTL_SECONDS',
      DEFAULT_JWKS_CACHE_TTL_SECONDS,
      MIN_JWKS_CACHE_TTL_SECONDS,
      MAX_JWKS_CACHE_TTL_SECONDS,
    ),
    jwksRefreshCooldownSeconds: integer(
      vars,
      'JWKS_REFRESH_COOLDOWN_SECONDS',
      DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS,
      1,
      3_600,
    ),
  };

  return {
    issuers: [issuerConfig],
    rules: [
      ...parsePublicPaths(optional(vars, 'PUBLIC_PATHS')),
      {
        path: 'any',
        access: 'required',
        issuer: 0,
        requiredScopes: parseScopes(optional(vars, 'REQUIRED_SCOPES')),
      },
    ],
    origin: parseOrigin(optional(vars, 'ORIGIN')),
    realm: parseRealm(optional(vars, 'REALM')),
  };
}

function optional(vars: Vars, name: keyof Vars): string | undefined {
  const value = vars[name]?.trim();
  return value ? value : undefined;
}

function required(vars: Vars, name: keyof Vars): string {
  const value = optional(vars, name);
  if (value === undefined) throw new ConfigError(name, 'is required');
  return value;
}

function parseUrl(name: string, value: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new ConfigError(name, 'is not a valid absolute URL');
  }
}

function list(value: string, separator: ',' | ' '): string[] {
  return value
    .split(separator === ' ' ? /\s+/ : ',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function integer(vars: Vars, name: keyof Vars, fallback: number, min: number, max: number): number {
  const text = optional(vars, name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new ConfigError(name, 'must be a whole number of seconds');
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
  return value;
}

function parseOrigin(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const url = parseUrl('ORIGIN', text);
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigError('ORIGIN', 'must be an http or https URL');
  if (url.search || url.hash) throw new ConfigError('ORIGIN', 'must not have a query or fragment');
  return url.href.replace(/\/+$/, '');
}

function parseAlgorithms(text: string | undefined): readonly string[] {
  if (text === undefined) return DEFAULT_ALGORITHMS;
  const algorithms = list(text, ',');
  for (const alg of algorithms) {
    if (alg.toLowerCase() === 'none' || /^HS/i.test(alg)) {
      throw new ConfigError(
        'ALGORITHMS',
        `must not contain ${alg.toLowerCase() === 'none' ? 'none' : 'HS*'}: a JWKS holds public keys only`,
      );
    }
    if (!SUPPORTED_ALGORITHMS.includes(alg)) {
      throw new ConfigError(
        'ALGORITHMS',
        `contains unsupported algorithm (supported: ${SUPPORTED_ALGORITHMS.join(', ')})`,
      );
    }
  }
  if (algorithms.length === 0) throw new ConfigError('ALGORITHMS', 'must name at least one algorithm');
  return algorithms;
}

function parsePublicPaths(text: string | undefined): RouteRule[] {
  if (text === undefined) return [];
  return list(text, ',').map((item) => {
    const path = parsePathPattern(item);
    if (!path) throw new ConfigError('PUBLIC_PATHS', 'entries must be /exact or /prefix/* paths');
    return { path, access: 'public' } as const;
  });
}

/** The realm is written into a quoted-string; refuse what would need escaping rather than escape it. */
function parseRealm(text: string | undefined): string {
  if (text === undefined) return DEFAULT_REALM;
  if (!/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/.test(text)) {
    throw new ConfigError('REALM', 'must be printable ASCII without quotes or backslashes');
  }
  return text;
}

/** RFC 6749 §3.3 scope-token characters, so each scope can be quoted into a challenge as is. */
function parseScopes(text: string | undefined): string[] {
  const scopes = list(text ?? '', ' ');
  if (scopes.some((scope) => !/^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope))) {
    throw new ConfigError('REQUIRED_SCOPES', 'contains a character not allowed in a scope (RFC 6749 §3.3)');
  }
  return scopes;
}
