import {
  DEFAULT_ALGORITHMS,
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_JWKS_CACHE_TTL_SECONDS,
  DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS,
  DEFAULT_ORIGIN_TIMEOUT_SECONDS,
  DEFAULT_PATH_RULES,
  DEFAULT_REALM,
  MAX_JWKS_CACHE_TTL_SECONDS,
  MAX_ORIGIN_TIMEOUT_SECONDS,
  MIN_JWKS_CACHE_TTL_SECONDS,
} from '../constants.ts';
import { ORIGIN_SERVICE_BINDING, type Vars } from '../env.ts';
import { ConfigError } from '../errors.ts';
import { parsePathPattern, patternProblem } from '../routing/path-pattern.ts';
import type { Config, DpopMode, IssuerConfig, RouteConfig } from './config-model.ts';
import { parseResource } from './resource.ts';
import { keySourceUrl, parseAlgorithms, parseOrigin, parseRealm, parseScopes, wholeSeconds } from './values.ts';

type FlatName = Exclude<keyof Vars, 'POLICY' | 'ORIGIN_SERVICE_BOUND'>;

/** The flat variables: one issuer, PUBLIC_PATHS as public routes, then one catch-all route. */
export function parseFlatVariables(vars: Vars): Config {
  const issuer = keySourceUrl('ISSUER', required(vars, 'ISSUER'));
  const jwksUri = optional(vars, 'JWKS_URI');
  const audiences = list(optional(vars, 'AUDIENCE') ?? '', ',');
  const clientIds = list(optional(vars, 'CLIENT_IDS') ?? '', ',');
  if (audiences.length === 0 && clientIds.length === 0) {
    throw new ConfigError(
      'AUDIENCE',
      optional(vars, 'AUDIENCE') === undefined ? 'is required' : 'must name at least one audience',
    );
  }
  const algorithms = optional(vars, 'ALGORITHMS');
  const issuerConfig: IssuerConfig = {
    id: 'default',
    issuer,
    audiences,
    clientIds,
    jwksUri: jwksUri === undefined ? undefined : keySourceUrl('JWKS_URI', jwksUri),
    algorithms: algorithms === undefined ? DEFAULT_ALGORITHMS : parseAlgorithms('ALGORITHMS', list(algorithms, ',')),
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
    tokenTypes: undefined,
    requiredClaims: [],
    decryptionKeys: secretName(vars, 'DECRYPTION_KEYS'),
    dpop: dpopMode(vars),
  };
  const requiredScopes = parseScopes('REQUIRED_SCOPES', list(optional(vars, 'REQUIRED_SCOPES') ?? '', ' '));
  const resource = optional(vars, 'RESOURCE');
  const origin = optional(vars, 'ORIGIN');
  const realm = optional(vars, 'REALM');

  return {
    issuers: [issuerConfig],
    routes: [
      ...parsePublicPaths(optional(vars, 'PUBLIC_PATHS')),
      {
        path: 'any',
        methods: undefined,
        access: 'required',
        issuers: [issuerConfig],
        scopes: { all: requiredScopes, any: [] },
        claims: [],
        origin: undefined,
        originService: undefined,
        originTimeoutMs: undefined,
        dpop: undefined,
        pathParameters: undefined,
      },
    ],
    origin: origin === undefined ? undefined : parseOrigin('ORIGIN', origin),
    // Without ORIGIN the origin is a service binding: whether the Worker has it is known per request only.
    originService: origin === undefined && vars.ORIGIN_SERVICE_BOUND ? ORIGIN_SERVICE_BINDING : undefined,
    originTimeoutMs:
      integer(vars, 'ORIGIN_TIMEOUT_SECONDS', DEFAULT_ORIGIN_TIMEOUT_SECONDS, 1, MAX_ORIGIN_TIMEOUT_SECONDS) * 1000,
    realm: realm === undefined ? DEFAULT_REALM : parseRealm('REALM', realm),
    headers: [],
    signingSecret: undefined,
    forwardAuthorization: true,
    paths: DEFAULT_PATH_RULES,
    forwardOverrideHeaders: false,
    resource:
      resource === undefined
        ? undefined
        : parseResource('RESOURCE', resource, [issuer], requiredScopes.length > 0 ? requiredScopes : undefined),
  };
}

function dpopMode(vars: Vars): DpopMode {
  const value = optional(vars, 'DPOP') ?? 'off';
  if (value !== 'off' && value !== 'allowed' && value !== 'required') {
    throw new ConfigError('DPOP', 'must be off, allowed or required');
  }
  return value;
}

/** A variable that names a Worker secret (its value never sits in a variable). */
function secretName(vars: Vars, name: FlatName): string | undefined {
  const value = optional(vars, name);
  if (value !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    throw new ConfigError(name, 'must be the name of a Worker secret');
  }
  return value;
}

function optional(vars: Vars, name: FlatName): string | undefined {
  const raw: unknown = vars[name];
  if (raw === undefined) return undefined;
  // A TOML number or boolean reaches the Worker as one: name it rather than fail on it.
  if (typeof raw !== 'string') throw new ConfigError(name, 'must be a string (in quotes)');
  const value = raw.trim();
  return value ? value : undefined;
}

function required(vars: Vars, name: FlatName): string {
  const value = optional(vars, name);
  if (value === undefined) throw new ConfigError(name, 'is required');
  return value;
}

function list(value: string, separator: ',' | ' '): string[] {
  return value
    .split(separator === ' ' ? /\s+/ : ',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

function integer(vars: Vars, name: FlatName, fallback: number, min: number, max: number): number {
  const text = optional(vars, name);
  return text === undefined ? fallback : wholeSeconds(name, text, min, max);
}

function parsePublicPaths(text: string | undefined): RouteConfig[] {
  if (text === undefined) return [];
  return list(text, ',').map((item) => {
    const path = parsePathPattern(item);
    if (!path) throw new ConfigError('PUBLIC_PATHS', 'entries must be /exact or /prefix/* paths');
    const problem = patternProblem(path, DEFAULT_PATH_RULES, false);
    if (problem) throw new ConfigError('PUBLIC_PATHS', `entry ${item} ${problem}`);
    return {
      path,
      methods: undefined,
      access: 'public',
      issuers: [],
      scopes: NO_SCOPES,
      claims: [],
      origin: undefined,
      originService: undefined,
      originTimeoutMs: undefined,
      dpop: undefined,
      pathParameters: undefined,
    };
  });
}

const NO_SCOPES = { all: [], any: [] } as const;
