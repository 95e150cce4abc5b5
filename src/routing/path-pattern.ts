import { VerifierError } from '../errors.ts';
import { normalizePath, type PathNormalization } from './normalize-path.ts';

/**
 * `/health` matches only `/health`; `/public/*` matches everything below `/public/`
 * (not `/public` itself, and never `/publicity`).
 */
export type PathPattern = { readonly exact: string } | { readonly prefix: string };

export function parsePathPattern(text: string): PathPattern | 'any' | undefined {
  if (text === '*') return 'any';
  if (!text.startsWith('/') || /[\s?#]/.test(text)) return undefined;
  if (text.endsWith('/*')) return { prefix: text.slice(0, -1) };
  if (text.includes('*')) return undefined;
  return { exact: text };
}

/**
 * Why a pattern could never match a normalised request path, or `undefined` when it can: it
 * must be written in the form the normaliser produces (`/%61dmin/*` never matches; `/admin/*`
 * does), and a `;` in it only ever matches where path parameters are kept.
 */
export function patternProblem(
  pattern: PathPattern,
  rules: PathNormalization,
  keepsParameters: boolean,
): string | undefined {
  const text = 'exact' in pattern ? pattern.exact : pattern.prefix;
  try {
    const normal = normalizePath(text, rules);
    if (normal.encodedSlash) return 'holds an encoded / or \\, which no request path matches';
    if (normal.pathParameters && !keepsParameters) return 'holds ;, which only matches under path_parameters "keep"';
    if (normal.path !== text) {
      return `is not in the normalised form requests are matched in: write ${'exact' in pattern ? normal.path : `${normal.path}*`}`;
    }
  } catch (error) {
    if (error instanceof VerifierError) return 'is a path every request holding it is refused for (malformed_path)';
    throw error;
  }
  return undefined;
}

/** `pathname` is a normalised path (`normalizePath`), in the case the pattern was compiled in. */
export function matchesPath(pattern: PathPattern, pathname: string): boolean {
  return 'exact' in pattern ? pathname === pattern.exact : pathname.startsWith(pattern.prefix);
}
