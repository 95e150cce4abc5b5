import type { JWTPayload } from 'jose';
import type { ClaimRule, RouteConfig } from '../config.ts';
import { InsufficientScopeError, VerifierError } from '../errors.ts';
import { type ClaimPath, claimAt } from '../shared/claim-path.ts';

/**
 * The token's scopes, from each of the issuer's scope claims (`scope` and `scp` by default),
 * one rule for all: a space-delimited string (RFC 9068 §2.2.3; Microsoft Entra writes `scp` so)
 * or an array of strings (Okta's `scp`, Auth0's `permissions`, Keycloak's roles). A non-string
 * item or an empty string grants nothing.
 */
export function grantedScopes(payload: JWTPayload, scopeClaims: readonly ClaimPath[]): Set<string> {
  const granted = new Set<string>();
  for (const path of scopeClaims) {
    const value = claimAt(payload, path);
    if (typeof value === 'string') {
      for (const scope of value.split(' ')) if (scope) granted.add(scope);
    } else if (Array.isArray(value)) {
      for (const scope of value) if (typeof scope === 'string' && scope) granted.add(scope);
    }
  }
  return granted;
}

/**
 * The `scope` a 403 challenge names (RFC 6750 §3): the route's `all` scopes, then its `any`
 * scopes, so a client that asks for every one of them is sure to be let in.
 */
export function challengeScope(route: Pick<RouteConfig, 'scopes'>): string {
  return [...new Set([...route.scopes.all, ...route.scopes.any])].join(' ');
}

/**
 * The route's demands on a verified token: every `all` scope and at least one `any` scope
 * (compared exactly and case-sensitively, RFC 6749 §3.3), then every claim rule. A failed
 * rule is a 403 with a fixed description: nothing of the claim's value is echoed.
 */
export function authorize(
  claims: JWTPayload,
  route: Pick<RouteConfig, 'scopes' | 'claims'>,
  scope: string,
  scopeClaims: readonly ClaimPath[],
): void {
  const { all, any } = route.scopes;
  if (all.length > 0 || any.length > 0) {
    const granted = grantedScopes(claims, scopeClaims);
    const ok = all.every((s) => granted.has(s)) && (any.length === 0 || any.some((s) => granted.has(s)));
    if (!ok) throw new InsufficientScopeError(scope);
  }
  for (const rule of route.claims) {
    if (!satisfies(claimAt(claims, rule.claim), rule)) throw new VerifierError('claim_mismatch');
  }
}

function satisfies(value: unknown, rule: ClaimRule): boolean {
  if ('equals' in rule) return value === rule.equals;
  if ('oneOf' in rule) return rule.oneOf.some((allowed) => value === allowed);
  return Array.isArray(value) && value.includes(rule.contains);
}
