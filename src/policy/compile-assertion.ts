import {
  DEFAULT_IDENTITY_ASSERTION_CLAIMS,
  DEFAULT_IDENTITY_ASSERTION_HEADER,
  DEFAULT_IDENTITY_ASSERTION_JWKS_PATH,
  DEFAULT_IDENTITY_ASSERTION_LIFETIME_SECONDS,
  RESERVED_IDENTITY_ASSERTION_CLAIMS,
} from '../constants.ts';
import { ConfigError } from '../errors.ts';
import { checkMappedHeaderName } from '../proxy/header-names.ts';
import type { IdentityAssertionConfig, IdentityAssertionsConfig, RouteConfig } from './config-model.ts';
import type { PolicyIdentityAssertion } from './schema.ts';
import { keySourceUrl } from './values.ts';

/** A route's `identity_assertion` as written: its own members, or `false`. */
type RouteAssertion = Omit<PolicyIdentityAssertion, 'jwks_path'> | false;

/**
 * One `identity_assertion` object, checked: its header under the mapped headers' rules and
 * distinct from every mapped name (`mapped`, lower case), its issuer a URL an edge-verifier one
 * hop in accepts, and no claim the gateway writes itself.
 */
export function compileIdentityAssertion(
  at: string,
  assertion: Omit<PolicyIdentityAssertion, 'jwks_path'>,
  mapped: ReadonlySet<string>,
): IdentityAssertionConfig {
  const header = checkMappedHeaderName(`${at}.header`, assertion.header ?? DEFAULT_IDENTITY_ASSERTION_HEADER);
  if (mapped.has(header)) throw new ConfigError(`${at}.header`, 'names the same header as an entry of POLICY.headers');
  const claims = assertion.claims ?? DEFAULT_IDENTITY_ASSERTION_CLAIMS;
  const seen = new Set<string>();
  claims.forEach((claim, i) => {
    if (RESERVED_IDENTITY_ASSERTION_CLAIMS.includes(claim)) {
      throw new ConfigError(
        `${at}.claims[${i}]`,
        `is ${claim}, which the gateway writes itself (reserved: ${RESERVED_IDENTITY_ASSERTION_CLAIMS.join(', ')})`,
      );
    }
    if (seen.has(claim)) throw new ConfigError(`${at}.claims[${i}]`, 'names the same claim as another entry');
    seen.add(claim);
  });
  return {
    signingKey: assertion.signing_key,
    issuer: keySourceUrl(`${at}.issuer`, assertion.issuer),
    header,
    lifetimeSeconds: assertion.lifetime_seconds ?? DEFAULT_IDENTITY_ASSERTION_LIFETIME_SECONDS,
    claims,
  };
}

/**
 * The assertion a route's verified requests carry: its own object replaces the top-level one
 * whole, `false` turns it off, and absent inherits. A public route verifies nothing to assert.
 */
export function routeIdentityAssertion(
  at: string,
  own: RouteAssertion | undefined,
  inherited: IdentityAssertionConfig | undefined,
  isPublic: boolean,
  mapped: ReadonlySet<string>,
): IdentityAssertionConfig | undefined {
  if (own === false) return undefined;
  if (own === undefined) return isPublic ? undefined : inherited;
  if (isPublic) throw new ConfigError(`${at}.identity_assertion`, 'has no meaning on a public route');
  return compileIdentityAssertion(`${at}.identity_assertion`, own, mapped);
}

/**
 * What every assertion of the policy shares: the JWKS path, every secret it lists, every header
 * stripped from clients. `undefined` when neither the top level nor any route names one.
 */
export function summarizeIdentityAssertions(
  top: IdentityAssertionConfig | undefined,
  jwksPath: string | undefined,
  routes: readonly Pick<RouteConfig, 'identityAssertion'>[],
): IdentityAssertionsConfig | undefined {
  const all = [top, ...routes.map((route) => route.identityAssertion)].filter(
    (assertion): assertion is IdentityAssertionConfig => assertion !== undefined,
  );
  if (all.length === 0) return undefined;
  return {
    jwksPath: jwksPath ?? DEFAULT_IDENTITY_ASSERTION_JWKS_PATH,
    signingKeys: [...new Set(all.map((assertion) => assertion.signingKey))],
    headers: [...new Set(all.map((assertion) => assertion.header))],
  };
}
