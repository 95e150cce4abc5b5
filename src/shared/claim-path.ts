/**
 * The value at a claim path: a top-level claim of that exact name first (issuers such as Auth0
 * namespace custom claims with URLs, which hold dots), else a dotted walk through nested
 * objects (`org.tier`). `undefined` when absent. Only own members count, so `constructor` or
 * `__proto__` never reach the prototype.
 */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let value: unknown = claims;
  for (const name of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, name)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}
