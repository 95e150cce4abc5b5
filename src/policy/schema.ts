import * as v from 'valibot';
import {
  DEFAULT_ALGORITHMS,
  DEFAULT_CLOCK_SKEW_SECONDS,
  DEFAULT_DPOP_MODE,
  DEFAULT_FORWARD_AUTHORIZATION,
  DEFAULT_FORWARD_OVERRIDE_HEADERS,
  DEFAULT_IDENTITY_ASSERTION_CLAIMS,
  DEFAULT_IDENTITY_ASSERTION_HEADER,
  DEFAULT_IDENTITY_ASSERTION_JWKS_PATH,
  DEFAULT_IDENTITY_ASSERTION_LIFETIME_SECONDS,
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
  HMAC_ALGORITHMS,
  MAX_IDENTITY_ASSERTION_LIFETIME_SECONDS,
  MAX_INTROSPECTION_CACHE_SECONDS,
  MAX_JWKS_CACHE_TTL_SECONDS,
  MAX_ORIGIN_TIMEOUT_SECONDS,
  MIN_IDENTITY_ASSERTION_LIFETIME_SECONDS,
  MIN_JWKS_CACHE_TTL_SECONDS,
  RATE_LIMIT_PERIODS_SECONDS,
  RESERVED_IDENTITY_ASSERTION_CLAIMS,
  SUPPORTED_ALGORITHMS,
} from '../constants.ts';
import { TENANT_PLACEHOLDER } from '../issuers/issuer-pattern.ts';
import { OVERRIDE_HEADERS } from '../routing/override-headers.ts';

/**
 * The POLICY variable's shape: the one definition that validates it at start-up, gives its
 * TypeScript type (`Policy`) and generates `policy.schema.json` (`npm run schema`). What a
 * JSON Schema cannot say (references between members, URL safety, header names) is checked
 * when the policy is compiled (`parse-policy.ts`).
 */

const text = v.pipe(v.string(), v.minLength(1, 'must not be empty'));
/** RFC 9110 §5.6.2 token: a header or cookie name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const texts = v.array(text);
const seconds = (min: number, max: number, meaning: string) =>
  v.optional(
    v.pipe(
      v.number(),
      v.integer('must be a whole number of seconds'),
      v.minValue(min, `must be between ${min} and ${max}`),
      v.maxValue(max, `must be between ${min} and ${max}`),
      v.description(meaning),
    ),
  );
const scopes = v.array(
  v.pipe(v.string(), v.regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'must be a scope token (RFC 6749 §3.3)')),
);
const claimPath = v.pipe(
  v.union(
    [text, v.pipe(v.array(text), v.minLength(1, 'must name at least one segment'))],
    'must be a claim path: a name, a dotted path, or an array of segments',
  ),
  v.description(
    'A claim name, a dotted path into nested objects (a top-level claim whose name holds dots wins), or an array of segments for names that hold dots.',
  ),
);
/** A Worker binding's name, as wrangler accepts it: a secret, or a service binding. */
const bindingName = (problem: string, meaning: string) =>
  v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, problem), v.description(meaning));
const originService = (meaning: string) => v.optional(bindingName('must be the name of a service binding', meaning));
const dpopMode = (meaning: string) =>
  v.optional(
    v.pipe(v.picklist(['off', 'allowed', 'required'], 'must be off, allowed or required'), v.description(meaning)),
  );
const pathParameters = (meaning: string) =>
  v.optional(v.pipe(v.picklist(['refuse', 'keep'], 'must be refuse or keep'), v.description(meaning)));
const flag = (meaning: string) => v.optional(v.pipe(v.boolean(), v.description(meaning)));
const tokenSourceName = (pattern: RegExp, problem: string) => v.pipe(v.string(), v.regex(pattern, problem));
const tokenSources = (meaning: string) =>
  v.optional(
    v.pipe(
      v.array(
        v.union(
          [
            v.literal('authorization'),
            v.strictObject({ header: tokenSourceName(HEADER_NAME, 'must be a header name (RFC 9110 token)') }),
            v.strictObject({ cookie: tokenSourceName(HEADER_NAME, 'must be a cookie name (RFC 6265 token)') }),
            v.strictObject({ query: tokenSourceName(/^[A-Za-z0-9._~-]+$/, 'must be a query parameter name') }),
          ],
          'must be "authorization", { header }, { cookie } or { query }',
        ),
      ),
      v.minLength(1, 'must name at least one source'),
      v.description(meaning),
    ),
  );
const claimValue = v.union([v.string(), v.number(), v.boolean()], 'must be a string, number or boolean');

const issuer = v.strictObject({
  issuer: v.pipe(
    v.union(
      [text, v.pipe(v.array(text), v.minLength(1, 'must name at least one issuer'))],
      'must be a string or an array of strings',
    ),
    v.description(
      `The accepted \`iss\`, or several (aliases, compared exactly). The first is an https URL (http on loopback) and the one discovery uses. A value may hold ${TENANT_PLACEHOLDER} once, as a whole path segment or host label (Microsoft Entra multi-tenant); then tenants and jwks_uri are required.`,
    ),
  ),
  tenants: v.optional(
    v.pipe(
      v.array(text),
      v.minLength(1, 'must name at least one tenant'),
      v.description(
        `With ${TENANT_PLACEHOLDER} in issuer: the tenant ids accepted (matched exactly), or ["*"] for any tenant (then the audience is the only guard).`,
      ),
    ),
  ),
  tenant_claim: v.optional(
    v.pipe(
      claimPath,
      v.description(
        `The claim that must name the tenant ${TENANT_PLACEHOLDER} took in iss. Default ${DEFAULT_TENANT_CLAIM}.`,
      ),
    ),
  ),
  audiences: v.optional(v.pipe(texts, v.description("A token's `aud` must hold one of these."))),
  client_ids: v.optional(
    v.pipe(
      texts,
      v.description('A token without `aud` is accepted when its `client_id` (else its `azp`) is one of these.'),
    ),
  ),
  jwks_uri: v.optional(v.pipe(text, v.description("The JWKS URL; discovered from the issuer's metadata when absent."))),
  algorithms: v.optional(
    v.pipe(
      v.array(
        v.picklist(
          [...SUPPORTED_ALGORITHMS, ...Object.keys(HMAC_ALGORITHMS)],
          `must be one of ${SUPPORTED_ALGORITHMS.join(', ')}, or with hmac_secret ${Object.keys(HMAC_ALGORITHMS).join(', ')} (never none)`,
        ),
      ),
      v.minLength(1, 'must name at least one algorithm'),
      v.description(
        `Accepted \`alg\` values. Default ${DEFAULT_ALGORITHMS.join(', ')}. ${Object.keys(HMAC_ALGORITHMS).join(', ')} only with hmac_secret, listed here.`,
      ),
    ),
  ),
  clock_skew_seconds: seconds(0, 600, `Tolerance for exp, nbf and iat. Default ${DEFAULT_CLOCK_SKEW_SECONDS}.`),
  jwks_cache_ttl_seconds: seconds(
    MIN_JWKS_CACHE_TTL_SECONDS,
    MAX_JWKS_CACHE_TTL_SECONDS,
    `How long a fetched JWKS is fresh. Default ${DEFAULT_JWKS_CACHE_TTL_SECONDS}.`,
  ),
  jwks_refresh_cooldown_seconds: seconds(
    1,
    3_600,
    `Least time between two unknown-kid refetches. Default ${DEFAULT_JWKS_REFRESH_COOLDOWN_SECONDS}.`,
  ),
  token_types: v.optional(
    v.pipe(
      texts,
      v.minLength(1, 'must name at least one type'),
      v.description('Accepted `typ` values (RFC 9068 §4: case-insensitive, `application/` optional).'),
    ),
  ),
  required_claims: v.optional(v.pipe(v.array(claimPath), v.description('Claims every token must carry.'))),
  scope_claims: v.optional(
    v.pipe(
      v.array(claimPath),
      v.minLength(1, 'must name at least one claim'),
      v.description(
        `The claims that grant scopes, each a space-delimited string or an array of strings; replaces the default ${JSON.stringify(DEFAULT_SCOPE_CLAIMS)}.`,
      ),
    ),
  ),
  dpop: dpopMode(
    `DPoP (RFC 9449) for this issuer's tokens: off (Bearer only), allowed (Bearer or DPoP), required (DPoP only). Default ${DEFAULT_DPOP_MODE}.`,
  ),
  hmac_secret: v.optional(
    bindingName(
      'must be the name of a Worker secret',
      `Name of the Worker secret whose UTF-8 bytes verify this issuer's ${Object.keys(HMAC_ALGORITHMS).join('/')} tokens (at least as many bytes as the hash: ${Object.values(
        HMAC_ALGORITHMS,
      )
        .map((a) => a.minBytes)
        .join(
          '/',
        )}). Those algorithms must also be listed in algorithms; asymmetric tokens are still verified with the JWKS only.`,
    ),
  ),
  introspection: v.optional(
    v.pipe(
      v.strictObject({
        endpoint: v.optional(
          v.pipe(
            text,
            v.description("The RFC 7662 endpoint. Default: introspection_endpoint from the issuer's metadata."),
          ),
        ),
        client_id: v.pipe(text, v.description('Our client id at the endpoint (client_secret_basic).')),
        client_secret: bindingName(
          'must be the name of a Worker secret',
          'Name of the Worker secret holding our client secret.',
        ),
        tokens: v.optional(
          v.pipe(
            v.picklist(['opaque', 'all'], 'must be opaque or all'),
            v.description(
              `opaque: tokens that are not JWS/JWE; all: JWTs too, after their signature and claims pass (revocation). Default ${DEFAULT_INTROSPECT_TOKENS}.`,
            ),
          ),
        ),
        cache_seconds: seconds(
          0,
          MAX_INTROSPECTION_CACHE_SECONDS,
          `How long an active answer may be reused, never past the token's exp; 0: never. Default ${DEFAULT_INTROSPECTION_CACHE_SECONDS}.`,
        ),
      }),
      v.description("RFC 7662 token introspection for this issuer's opaque tokens (or every token, for revocation)."),
    ),
  ),
  decryption_keys: v.optional(
    bindingName(
      'must be the name of a Worker secret',
      "Name of the Worker secret holding a JWKS of private keys that decrypt this issuer's encrypted tokens (nested JWE). Absent: encrypted tokens are refused.",
    ),
  ),
});

/** The members of an identity assertion, at the top level and on a route alike. */
const identityAssertionMembers = {
  signing_key: bindingName(
    'must be the name of a Worker secret',
    'Name of the Worker secret holding a JWK Set of private keys, EC P-256 (ES256) or Ed25519 (EdDSA), each with a kid: the first signs, the others are only published (previous or next keys).',
  ),
  issuer: v.pipe(
    text,
    v.description(
      "The assertion's `iss`, naming this gateway: an https URL (http on loopback). Origins verify the assertion against it.",
    ),
  ),
  header: v.optional(
    v.pipe(
      v.string(),
      v.description(
        `The request header it is sent in, under the rules of mapped header names; a client's copy is stripped on every route. Default ${DEFAULT_IDENTITY_ASSERTION_HEADER}.`,
      ),
    ),
  ),
  lifetime_seconds: seconds(
    MIN_IDENTITY_ASSERTION_LIFETIME_SECONDS,
    MAX_IDENTITY_ASSERTION_LIFETIME_SECONDS,
    `Seconds from iat to exp, or fewer when the verified token expires sooner (an assertion never outlives it); an assertion is reused for the same verified token until half of it has passed. Default ${DEFAULT_IDENTITY_ASSERTION_LIFETIME_SECONDS}.`,
  ),
  claims: v.optional(
    v.pipe(
      v.array(text),
      v.description(
        `Top-level claims copied from the verified token when it has them. Default ${JSON.stringify(DEFAULT_IDENTITY_ASSERTION_CLAIMS)}; ${RESERVED_IDENTITY_ASSERTION_CLAIMS.join(', ')} are the gateway's own and refused.`,
      ),
    ),
  ),
};

const identityAssertion = v.strictObject({
  ...identityAssertionMembers,
  jwks_path: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\/[^\s?#*]*$/, 'must be an exact path'),
      v.description(
        `Where the public keys of every signing_key in the policy are served (GET, HEAD), before any route. Default ${DEFAULT_IDENTITY_ASSERTION_JWKS_PATH}.`,
      ),
    ),
  ),
});

const rateLimit = v.strictObject({
  binding: bindingName(
    'must be the name of a Rate Limiting binding',
    "The Workers Rate Limiting binding (`[[ratelimits]]` in wrangler.toml) that counts this route's requests.",
  ),
  period_seconds: v.pipe(
    v.picklist(RATE_LIMIT_PERIODS_SECONDS, `must be ${RATE_LIMIT_PERIODS_SECONDS.join(' or ')}`),
    v.description("The binding's `simple.period`, which a Worker cannot read: a refused request's Retry-After."),
  ),
  key: v.pipe(
    claimPath,
    v.description(
      'What is counted: sub, client_id (else azp), client_ip (CF-Connecting-IP; the only key on a public route), or another claim path. A request without the claim is counted by client_ip.',
    ),
  ),
});

const claimRule = v.union(
  [
    v.strictObject({ claim: claimPath, equals: claimValue }),
    v.strictObject({ claim: claimPath, one_of: v.pipe(v.array(claimValue), v.minLength(1, 'must not be empty')) }),
    v.strictObject({ claim: claimPath, contains: claimValue }),
  ],
  'must be { claim, equals } or { claim, one_of } or { claim, contains }',
);

const route = v.strictObject({
  path: v.pipe(
    v.string(),
    v.regex(
      /^\/(?:[^\s?#*]*\/)?\*$|^\/[^\s?#*]*$|^\*$/,
      'must be /exact, /prefix/* (/* is every path) or * (every path, even one holding an encoded / or \\)',
    ),
  ),
  methods: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.regex(/^[!#$%&'*+\-.^_`|~0-9A-Z]+$/, 'must be an upper-case HTTP method'))),
      v.minLength(1, 'must name at least one method'),
      v.description('Methods this route matches. Absent: every method.'),
    ),
  ),
  access: v.picklist(['public', 'optional', 'required'], 'must be public, optional or required'),
  issuers: v.optional(
    v.pipe(
      v.array(text),
      v.minLength(1, 'must name at least one issuer'),
      v.description('Ids of the issuers whose tokens this route accepts. Absent: the only issuer.'),
    ),
  ),
  scopes: v.optional(
    v.strictObject({
      all: v.optional(v.pipe(scopes, v.description('Every one must be granted.'))),
      any: v.optional(
        v.pipe(scopes, v.minLength(1, 'must not be empty'), v.description('At least one must be granted.')),
      ),
    }),
  ),
  claims: v.optional(v.array(claimRule)),
  origin: v.optional(v.pipe(text, v.description("This route's origin base URL."))),
  origin_service: originService('The service binding this route forwards through, instead of an origin URL.'),
  origin_timeout_seconds: seconds(1, MAX_ORIGIN_TIMEOUT_SECONDS, "Seconds to wait for this route's origin's headers."),
  dpop: dpopMode("DPoP on this route, over each issuer's own setting."),
  path_parameters: pathParameters('Path parameters (`;` in a segment) on this route, over the top-level setting.'),
  token_sources: tokenSources('Where this route reads its token, in order, over the top-level token_sources.'),
  identity_assertion: v.optional(
    v.pipe(
      v.union(
        [v.literal(false), v.strictObject(identityAssertionMembers)],
        'must be false or an identity assertion object',
      ),
      v.description(
        "This route's identity assertion, replacing the top-level one whole (jwks_path stays top-level only); false: none on this route.",
      ),
    ),
  ),
  rate_limit: v.optional(
    v.pipe(
      rateLimit,
      v.description(
        'A per-caller limit, counted after authorization; over it, 429 rate_limited with Retry-After. Absent: none.',
      ),
    ),
  ),
});

const headerSource = v.union(
  [
    claimPath,
    v.strictObject({
      claim: claimPath,
      format: v.optional(v.picklist(['text', 'csv', 'json'], 'must be text, csv or json')),
    }),
  ],
  'must be a claim path or { claim, format }',
);

export const policySchema = v.strictObject({
  $schema: v.optional(v.string()),
  issuers: v.pipe(
    v.record(v.string(), issuer),
    v.minEntries(1, 'must hold at least one issuer'),
    v.description('Issuers by id.'),
  ),
  routes: v.pipe(
    v.array(route),
    v.minLength(1, 'must hold at least one route'),
    v.description('First match wins; a request no route matches answers 404 no_route.'),
  ),
  origin: v.optional(v.pipe(text, v.description('Base URL of the origin (or ORIGIN); a route may override it.'))),
  origin_service: originService(
    'The service binding the origin is reached through, instead of origin (or ORIGIN); a route may override it.',
  ),
  origin_timeout_seconds: seconds(
    1,
    MAX_ORIGIN_TIMEOUT_SECONDS,
    `Seconds to wait for the origin's response headers, then 504. Default: ORIGIN_TIMEOUT_SECONDS, else ${DEFAULT_ORIGIN_TIMEOUT_SECONDS}.`,
  ),
  realm: v.optional(v.pipe(text, v.description(`Realm in the challenge. Default: REALM, else "${DEFAULT_REALM}".`))),
  headers: v.optional(
    v.pipe(v.record(v.string(), headerSource), v.description('Verified claims sent to the origin, by header name.')),
  ),
  sign_headers: v.optional(
    v.strictObject({
      secret: bindingName(
        'must be the name of a Worker secret',
        'Name of the Worker secret that keys X-Auth-Signature.',
      ),
    }),
  ),
  identity_assertion: v.optional(
    v.pipe(
      identityAssertion,
      v.description(
        'A JWT the gateway signs for the origin on every verified request (Cloudflare Access, Google IAP style), with its JWKS served at jwks_path. Absent: none.',
      ),
    ),
  ),
  forward_authorization: v.optional(
    v.pipe(
      v.boolean(),
      v.description(
        `Whether the origin receives the token where the client sent it (Authorization, the source header or cookie; a query parameter never). Default ${DEFAULT_FORWARD_AUTHORIZATION}.`,
      ),
    ),
  ),
  token_sources: tokenSources(
    `Where a token is read, in order: "authorization" (Authorization: Bearer or DPoP), { header }, { cookie }, { query } (discouraged; never forwarded). Default ${JSON.stringify(DEFAULT_TOKEN_SOURCES)}.`,
  ),
  path_parameters: pathParameters(
    `A path segment holding \`;\`: refuse (404; servlet containers read \`..;\` as \`..\`) or keep (the origin reads \`;\` as data; matched literally). Default ${DEFAULT_PATH_RULES.pathParameters}.`,
  ),
  merge_slashes: flag(
    `Merge // into / before matching and forwarding; false keeps empty segments and matches them literally. Default ${DEFAULT_PATH_RULES.mergeSlashes}.`,
  ),
  case_sensitive: flag(
    `false: route patterns match whatever the case (for case-insensitive origins such as IIS); the origin still receives the path as sent. Default ${DEFAULT_PATH_RULES.caseSensitive}.`,
  ),
  forward_override_headers: flag(
    `Whether the method and URL override headers (${OVERRIDE_HEADERS.join(', ')}) reach the origin; when true, the request is routed by the method and path they name, and its own method and path must be admitted too. Default ${DEFAULT_FORWARD_OVERRIDE_HEADERS}.`,
  ),
  resource: v.optional(
    v.strictObject({
      resource: v.pipe(text, v.description('The resource identifier (RFC 9728).')),
      scopes_supported: v.optional(scopes),
      authorization_servers: v.optional(v.pipe(texts, v.description("Default: every issuer's `issuer`."))),
    }),
  ),
});

/** The POLICY variable as written. */
export type Policy = v.InferInput<typeof policySchema>;
export type PolicyIssuer = v.InferInput<typeof issuer>;
export type PolicyRoute = v.InferInput<typeof route>;
export type PolicyIdentityAssertion = v.InferInput<typeof identityAssertion>;
export type PolicyRateLimit = v.InferInput<typeof rateLimit>;
