/**
 * `/health` matches only `/health`; `/public/*` matches everything below `/public/`
 * (not `/public` itself, and never `/publicity`).
 */
export type PathPattern = { readonly exact: string } | { readonly prefix: string };

export function parsePathPattern(text: string): PathPattern | undefined {
  if (!text.startsWith('/') || /[\s?#]/.test(text)) return undefined;
  if (text.endsWith('/*')) return { prefix: text.slice(0, -1) };
  if (text.includes('*')) return undefined;
  return { exact: text };
}

/**
 * Percent-encoded `/`, `\` and `.` survive URL parsing but an origin may decode them later
 * (`/public/%2e%2e%2fadmin` → `/admin`); such a path never counts as a match, so it fails closed.
 */
const ENCODED_PATH_SYNTAX = /%(2f|5c|2e)/i;

/** `pathname` must come from `new URL(...)`, which has already resolved `.` and `..` segments. */
export function matchesPath(pattern: PathPattern, pathname: string): boolean {
  if (ENCODED_PATH_SYNTAX.test(pathname)) return false;
  return 'exact' in pattern ? pathname === pattern.exact : pathname.startsWith(pattern.prefix);
}
