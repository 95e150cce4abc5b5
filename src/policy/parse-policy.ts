import * as v from 'valibot';
import {
  DEFAULT_ALGORITHMS,
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_DPOP_MODE,
  DEFAULT_FORWARD_AUTHORIZATION,
  DEFAULT_FORWARD_OVERRIDE_HEADERS,
  DEFAULT_INTROSPECT_TOKENS,
  DEFAULT_INTROSPECTION_CACHE_SECONDS,
  DEFAULT_JWKS_CACHE_TTL_SECONDS,
  DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS,
  DEFAULT_ORIGIN_TIMEOUT_SECONDS,
  DEFAULT_PATH_RULES,
  DEFAULT_REALM,
  DEFAULT_SCOPE_CLAIMS,
  DEFAULT_TENANT_CLAIM,
  DEFAULT_TOKEN_SOURCES,
  MAX_ORIGIN_TIMEOUT_SECONDS,
} from '../constants.ts';
import { ConfigError } from '../errors.ts';
import { type IssuerPattern, parseIssuerPattern, TENANT_PLACEHOLDER } from '../issuers/issuer-pattern.ts';
import { checkMappedHeaderName, NOT_FORWARDED } from '../proxy/header-names.ts';
import { parsePathPattern, patternProblem } from '../routing/path-pattern.ts';
import { compileIdentityAssertion, routeIdentityAssertion, summarizeIdentityAssertions } from './compile-assertion.ts';
import { compileRateLimit } from './compile-rate-limit.ts';
import type {
  ClaimRule,
  Config,
  HeaderMapping,
  IdentityAssertionConfig,
  IssuerConfig,
  PathRules,
  RouteConfig,
  TokenSourceConfig,
} from './config-model.ts';
import { parseResource } from './resource.ts';
import { type Policy, type PolicyIssuer, type PolicyRoute, policySchema } from './schema.ts';
import { keySourceUrl, normalizeTokenType, parseAlgorithms, parseOrigin, parseRealm, wholeSeconds } from './values.ts';

/** ORIGIN and REALM may stand beside POLICY; the policy's own value wins. */
export interface PolicyFallbacks {
  readonly origin: string | undefined;
  readonly realm: string | undefined;
  readonly originTimeoutSeconds: string | undefined;
}

/** POLICY (a JSON object, or a string of JSON) → `Config`; every error names its path. */
export function parsePolicy(input: string | object, fallbacks: PolicyFallbacks): Config {
  const result = v.safeParse(policySchema, typeof input === 'string' ? parseJson(input) : input);
  if (!result.success) throw issueError(result.issues[0]);
  return compilePolicy(result.output, fallbacks);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError('POLICY', 'is not valid JSON');
  }
}

function compilePolicy(policy: Policy, fallbacks: PolicyFallbacks): Config {
  const issuers = new Map<string, IssuerConfig>();
  for (const [id, issuer] of Object.entries(policy.issuers)) issuers.set(id, compileIssuer(id, issuer));
  const paths: PathRules = {
    mergeSlashes: policy.merge_slashes ?? DEFAULT_PATH_RULES.mergeSlashes,
    caseSensitive: policy.case_sensitive ?? DEFAULT_PATH_RULES.caseSensitive,
    pathParameters: policy.path_parameters ?? DEFAULT_PATH_RULES.pathParameters,
  };
  const headers = compileHeaders(policy.headers ?? {});
  const mapped = new Set(headers.map((mapping) => mapping.name));
  const assertion =
    policy.identity_assertion === undefined
      ? undefined
      : compileIdentityAssertion('POLICY.identity_assertion', policy.identity_assertion, mapped);
  const routes = policy.routes.map((route, i) =>
    compileRoute(route, `POLICY.routes[${i}]`, issuers, paths, { assertion, mapped }),
  );
  const identityAssertions = summarizeIdentityAssertions(assertion, policy.identity_assertion?.jwks_path, routes);

  const originService = exclusiveOriginService(policy, 'POLICY');
  const resource = compileResource(policy.resource, issuers);
  return {
    issuers: [...issuers.values()],
    routes,
    // The policy's own origin_service wins over ORIGIN as its own origin does.
    origin:
      originService === undefined
        ? ownOrVariable(policy.origin, 'POLICY.origin', fallbacks.origin, 'ORIGIN', parseOrigin)
        : undefined,
    originService,
    originTimeoutMs:
      (policy.origin_timeout_seconds ??
        (fallbacks.originTimeoutSeconds?.trim()
          ? wholeSeconds('ORIGIN_TIMEOUT_SECONDS', fallbacks.originTimeoutSeconds.trim(), 1, MAX_ORIGIN_TIMEOUT_SECONDS)
          : DEFAULT_ORIGIN_TIMEOUT_SECONDS)) * 1000,
    realm: ownOrVariable(policy.realm, 'POLICY.realm', fallbacks.realm, 'REALM', parseRealm) ?? DEFAULT_REALM,
    headers,
    signingSecret: policy.sign_headers?.secret,
    forwardAuthorization: policy.forward_authorization ?? DEFAULT_FORWARD_AUTHORIZATION,
    tokenSources:
      policy.token_sources === undefined
        ? DEFAULT_TOKEN_SOURCES.map((kind) => ({ kind }))
        : compileTokenSources('POLICY.token_sources', policy.token_sources),
    paths,
    forwardOverrideHeaders: policy.forward_override_headers ?? DEFAULT_FORWARD_OVERRIDE_HEADERS,
    resource,
    identityAssertions: sharedPath(identityAssertions, resource),
  };
}

/** RFC 9728 metadata: its servers default to every exact issuer. */
function compileResource(resource: Policy['resource'], issuers: ReadonlyMap<string, IssuerConfig>): Config['resource'] {
  if (resource === undefined) return undefined;
  return parseResource(
    'POLICY.resource.resource',
    resource.resource,
    resource.authorization_servers?.map((server, i) =>
      keySourceUrl(`POLICY.resource.authorization_servers[${i}]`, server),
    ) ?? [
      // A template is no server's identifier: only exact issuers are named.
      ...new Set([...issuers.values()].filter((i) => i.tenants === undefined).map((i) => i.issuer)),
    ],
    resource.scopes_supported,
  );
}

/** The assertion JWKS and the resource metadata are answered before any route: they cannot share a path. */
function sharedPath<T extends { readonly jwksPath: string } | undefined>(
  assertions: T,
  resource: { readonly metadataPath: string } | undefined,
): T {
  if (assertions && resource && assertions.jwksPath === resource.metadataPath) {
    throw new ConfigError('POLICY.identity_assertion.jwks_path', 'is the path of the resource metadata');
  }
  return assertions;
}

/** The policy's own value wins over the variable beside it; each is checked under its own name. */
function ownOrVariable<T>(
  own: string | undefined,
  ownName: string,
  variable: string | undefined,
  variableName: string,
  parse: (name: string, text: string) => T,
): T | undefined {
  if (own !== undefined) return parse(ownName, own);
  const text = variable?.trim();
  return text ? parse(variableName, text) : undefined;
}

/**
 * `issuer` as a list of accepted values: the first an https URL (loopback http allowed), the one
 * discovery reads; the others aliases, compared exactly and never fetched. A `{tenantid}`
 * template needs `tenants` (`["*"]` for any tenant, alone); `tenants` without a template means
 * nothing and is refused.
 */
function compileAcceptedIssuers(
  at: string,
  issuer: PolicyIssuer,
): { first: string; accepted: IssuerPattern[]; tenants: readonly string[] | 'any' | undefined } {
  const values = typeof issuer.issuer === 'string' ? [issuer.issuer] : issuer.issuer;
  const nameOf = (i: number) => (typeof issuer.issuer === 'string' ? `${at}.issuer` : `${at}.issuer[${i}]`);
  const accepted = values.map((value, i) => {
    const pattern = parseIssuerPattern(value);
    if (typeof pattern === 'string') throw new ConfigError(nameOf(i), pattern);
    return pattern;
  });
  const first = values[0] as string;
  // The URL check reads a template with a sample tenant in its place.
  keySourceUrl(nameOf(0), first.replace(TENANT_PLACEHOLDER, 'tenant'));
  const templated = accepted.some((pattern) => !('exact' in pattern));
  if (!templated) {
    if (issuer.tenants !== undefined) {
      throw new ConfigError(`${at}.tenants`, `has no meaning without ${TENANT_PLACEHOLDER} in issuer`);
    }
    return { first, accepted, tenants: undefined };
  }
  if (issuer.tenants === undefined) {
    throw new ConfigError(`${at}.tenants`, `is required when issuer holds ${TENANT_PLACEHOLDER}`);
  }
  if (issuer.tenants.includes('*')) {
    if (issuer.tenants.length > 1) throw new ConfigError(`${at}.tenants`, 'must be ["*"] alone, or tenant ids');
    return { first, accepted, tenants: 'any' };
  }
  return { first, accepted, tenants: issuer.tenants };
}

function compileIssuer(id: string, issuer: PolicyIssuer): IssuerConfig {
  const at = `POLICY.issuers${member(id)}`;
  const audiences = issuer.audiences ?? [];
  const clientIds = issuer.client_ids ?? [];
  if (audiences.length === 0 && clientIds.length === 0) {
    throw new ConfigError(at, 'must name at least one of audiences or client_ids');
  }
  const { first, accepted, tenants } = compileAcceptedIssuers(at, issuer);
  if (issuer.jwks_uri === undefined && accepted.some((pattern) => !('exact' in pattern))) {
    throw new ConfigError(
      `${at}.jwks_uri`,
      `is required when issuer holds ${TENANT_PLACEHOLDER}: every tenant shares one key set`,
    );
  }
  return {
    id,
    issuer: first,
    accepted,
    tenants,
    tenantClaim: issuer.tenant_claim ?? DEFAULT_TENANT_CLAIM,
    audiences,
    clientIds,
    jwksUri: issuer.jwks_uri === undefined ? undefined : keySourceUrl(`${at}.jwks_uri`, issuer.jwks_uri),
    algorithms: issuer.algorithms
      ? parseAlgorithms(`${at}.algorithms`, issuer.algorithms, issuer.hmac_secret)
      : DEFAULT_ALGORITHMS,
    hmacSecret: issuer.hmac_secret,
    clockSkewSeconds: issuer.clock_skew_seconds ?? DEFAULT_CLOCK_SKEW_SECONDS,
    jwksCacheTtlSeconds: issuer.jwks_cache_ttl_seconds ?? DEFAULT_JWKS_CACHE_TTL_SECONDS,
    jwksRefreshCooldownSeconds: issuer.jwks_refresh_cooldown_seconds ?? DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS,
    tokenTypes: issuer.token_types?.map(normalizeTokenType),
    requiredClaims: issuer.required_claims ?? [],
    scopeClaims: issuer.scope_claims ?? DEFAULT_SCOPE_CLAIMS,
    decryptionKeys: issuer.decryption_keys,
    introspection:
      issuer.introspection === undefined
        ? undefined
        : {
            endpoint:
              issuer.introspection.endpoint === undefined
                ? undefined
                : keySourceUrl(`${at}.introspection.endpoint`, issuer.introspection.endpoint),
            clientId: issuer.introspection.client_id,
            clientSecret: issuer.introspection.client_secret,
            tokens: issuer.introspection.tokens ?? DEFAULT_INTROSPECT_TOKENS,
            cacheSeconds: issuer.introspection.cache_seconds ?? DEFAULT_INTROSPECTION_CACHE_SECONDS,
          },
    dpop: issuer.dpop ?? DEFAULT_DPOP_MODE,
  };
}

/** What a route inherits from the top level beyond its issuers and path rules. */
interface RouteDefaults {
  /** The top-level identity assertion. */
  readonly assertion: IdentityAssertionConfig | undefined;
  /** The mapped header names, lower case: an assertion header must be none of them. */
  readonly mapped: ReadonlySet<string>;
}

function compileRoute(
  route: PolicyRoute,
  at: string,
  issuers: ReadonlyMap<string, IssuerConfig>,
  paths: PathRules,
  defaults: RouteDefaults,
): RouteConfig {
  const path = parsePathPattern(route.path);
  if (!path) throw new ConfigError(`${at}.path`, 'must be /exact or /prefix/* (/* is every path)');
  const problem =
    path === 'any'
      ? undefined
      : patternProblem(path, paths, (route.path_parameters ?? paths.pathParameters) === 'keep');
  if (problem) throw new ConfigError(`${at}.path`, problem);
  const isPublic = route.access === 'public';
  if (isPublic) {
    for (const name of ['issuers', 'scopes', 'claims'] as const) {
      if (route[name] !== undefined) throw new ConfigError(`${at}.${name}`, 'has no meaning on a public route');
    }
  }
  const originService = exclusiveOriginService(route, at);
  return {
    path,
    methods: route.methods,
    access: route.access,
    issuers: isPublic ? [] : oneIntrospector(routeIssuers(route.issuers, at, issuers), `${at}.issuers`),
    scopes: { all: route.scopes?.all ?? [], any: route.scopes?.any ?? [] },
    claims: (route.claims ?? []).map(compileClaimRule),
    origin: route.origin === undefined ? undefined : parseOrigin(`${at}.origin`, route.origin),
    originService,
    originTimeoutMs: route.origin_timeout_seconds === undefined ? undefined : route.origin_timeout_seconds * 1000,
    dpop: route.dpop,
    pathParameters: route.path_parameters,
    tokenSources:
      route.token_sources === undefined ? undefined : compileTokenSources(`${at}.token_sources`, route.token_sources),
    identityAssertion: routeIdentityAssertion(
      at,
      route.identity_assertion,
      defaults.assertion,
      isPublic,
      defaults.mapped,
    ),
    rateLimit:
      route.rate_limit === undefined ? undefined : compileRateLimit(`${at}.rate_limit`, route.rate_limit, isPublic),
  };
}

/** Only `Authorization` (RFC 6750 §2.1), as before token sources existed. */

/** Names that are not a token's place: the credentials header itself, the connection's, the cookies'. */
const NOT_A_TOKEN_HEADER = new Set(['authorization', 'cookie', 'host', 'content-length', 'content-type']);

function compileTokenSources(at: string, sources: NonNullable<Policy['token_sources']>): TokenSourceConfig[] {
  const seen = new Set<string>();
  return sources.map((source, i) => {
    const compiled: TokenSourceConfig =
      source === 'authorization'
        ? { kind: 'authorization' }
        : 'header' in source
          ? { kind: 'header', name: source.header.toLowerCase() }
          : 'cookie' in source
            ? { kind: 'cookie', name: source.cookie }
            : { kind: 'query', name: source.query };
    const key = compiled.kind === 'authorization' ? 'authorization' : `${compiled.kind}:${compiled.name}`;
    if (seen.has(key)) throw new ConfigError(`${at}[${i}]`, 'names the same source as another entry');
    seen.add(key);
    if (compiled.kind === 'header' && (NOT_A_TOKEN_HEADER.has(compiled.name) || NOT_FORWARDED.has(compiled.name))) {
      throw new ConfigError(
        `${at}[${i}].header`,
        compiled.name === 'authorization' ? 'is read by the "authorization" source' : 'cannot carry a token',
      );
    }
    return compiled;
  });
}

/** A level names its origin one way: a URL or a service binding, never both. */
function exclusiveOriginService(
  level: { readonly origin?: string | undefined; readonly origin_service?: string | undefined },
  at: string,
): string | undefined {
  if (level.origin !== undefined && level.origin_service !== undefined) {
    throw new ConfigError(`${at}.origin_service`, 'cannot be set together with origin');
  }
  return level.origin_service;
}

/** An opaque token costs at most one introspection call: at most one of a route's issuers introspects them. */
function oneIntrospector(issuers: IssuerConfig[], at: string): IssuerConfig[] {
  const introspecting = issuers.filter((issuer) => issuer.introspection !== undefined);
  if (introspecting.length > 1) {
    throw new ConfigError(
      at,
      `names ${introspecting.map((issuer) => issuer.id).join(' and ')}, which both introspect opaque tokens: a route may have one`,
    );
  }
  return issuers;
}

/** Absent means the only issuer; with several, a route must say which it trusts. */
function routeIssuers(
  ids: readonly string[] | undefined,
  at: string,
  issuers: ReadonlyMap<string, IssuerConfig>,
): IssuerConfig[] {
  if (ids === undefined) {
    if (issuers.size === 1) return [...issuers.values()];
    throw new ConfigError(`${at}.issuers`, 'is required when the policy has more than one issuer');
  }
  const named = ids.map((id, i) => {
    const issuer = issuers.get(id);
    if (!issuer)
      throw new ConfigError(`${at}.issuers[${i}]`, `names no issuer in POLICY.issuers: ${JSON.stringify(id)}`);
    return issuer;
  });
  return [...new Set(named)];
}

function compileClaimRule(rule: NonNullable<PolicyRoute['claims']>[number]): ClaimRule {
  return 'one_of' in rule ? { claim: rule.claim, oneOf: rule.one_of } : rule;
}

function compileHeaders(headers: NonNullable<Policy['headers']>): HeaderMapping[] {
  const seen = new Set<string>();
  return Object.entries(headers).map(([header, source]) => {
    const at = `POLICY.headers${member(header)}`;
    const name = checkMappedHeaderName(at, header);
    if (seen.has(name)) throw new ConfigError(at, 'names the same header as another entry');
    seen.add(name);
    if (typeof source === 'string' || Array.isArray(source)) return { name, claim: source, format: 'text' };
    return { name, claim: source.claim, format: source.format ?? 'text' };
  });
}

/** `.corp` for an identifier-like key, `["X-User-Email"]` otherwise. */
function member(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** The first problem, named by its path, with valibot's message or ours. */
function issueError(issue: v.BaseIssue<unknown>): ConfigError {
  const path = `POLICY${(issue.path ?? []).map((item) => member(item.key as string | number)).join('')}`;
  // A strict object reports an unknown member as "expected never".
  if (issue.expected === 'never') return new ConfigError(path, 'is not a known member');
  if (issue.received === 'undefined') return new ConfigError(path, 'is required');
  if (issue.message.startsWith('Invalid ')) {
    return new ConfigError(path, `expected ${issue.expected ?? 'a valid value'}, received ${issue.received}`);
  }
  return new ConfigError(path, issue.message);
}
