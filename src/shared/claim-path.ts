/**
 * A claim path: a claim name or a dotted path (`org.tier`), or an array of segments for names
 * that hold dots themselves (`["resource_access", "my.client", "roles"]`).
 */
export type ClaimPath = string | readonly string[];

/**
 * The value at a claim path, `undefined` when absent. A string path is first a top-level claim
 * of that exact name (issuers such as Auth0 namespace custom claims with URLs, which hold dots),
 * else a dotted walk through nested objects; an array path is walked segment by segment. Only
 * own members count, so `constructor` or `__proto__` never reach the prototype.
 */
export function claimAt(claims: Record<string, unknown>, path: ClaimPath): unknown {
  if (typeof path === 'string') {
    if (Object.hasOwn(claims, path)) return claims[path];
    return walk(claims, path.split('.'));
  }
  return walk(claims, path);
}

function walk(claims: Record<string, unknown>, segments: readonly string[]): unknown {
  let value: unknown = claims;
  for (const name of segments) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, name)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[name];
  }
  return value;
}

/** A claim path as logs and errors show it: dotted, or as its JSON array when it holds segments. */
export function claimPathLabel(path: ClaimPath): string {
  return typeof path === 'string' ? path : JSON.stringify(path);
}
