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

/** `pathname` must come from `new URL(...)`, which has already resolved `.` and `..` segments. */
export function matchesPath(pattern: PathPattern, pathname: string): boolean {
  return 'exact' in pattern ? pathname === pattern.exact : pathname.startsWith(pattern.prefix);
}
