import type { JWTPayload } from 'jose';
import { InsufficientScopeError } from '../errors.ts';

/**
 * The token's scopes: RFC 8693 §4.2 / RFC 9068 §2.2.3 `scope` (space-delimited), or the
 * `scp` array some issuers (Okta, Azure AD) use instead.
 */
export function grantedScopes(payload: JWTPayload): Set<string> {
  const granted = new Set<string>();
  if (typeof payload.scope === 'string') {
    for (const scope of payload.scope.split(' ')) if (scope) granted.add(scope);
  }
  if (Array.isArray(payload.scp)) {
    for (const scope of payload.scp) if (typeof scope === 'string') granted.add(scope);
  }
  return granted;
}

/** Every required scope must be granted, compared exactly and case-sensitively (RFC 6749 §3.3). */
export function authorizeScopes(payload: JWTPayload, required: readonly string[]): void {
  if (required.length === 0) return;
  const granted = grantedScopes(payload);
  if (!required.every((scope) => granted.has(scope))) throw new InsufficientScopeError(required.join(' '));
}
