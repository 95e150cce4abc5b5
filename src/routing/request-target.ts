import { VerifierError } from '../errors.ts';
import type { PathRules } from '../policy/config-model.ts';
import { isCorsPreflight, routingMethod } from './cors-preflight.ts';
import { type NormalizedPath, normalizePath } from './normalize-path.ts';
import { readOverrides } from './override-headers.ts';

/** What a request is routed by, and what the origin will receive. */
export interface RequestTarget {
  /** The method routes match: an override's, a preflight's announced one, else the request's own. */
  readonly method: string;
  /** The path routes match: an override's, else the request's own, normalised. */
  readonly path: NormalizedPath;
  /** The URL the origin receives: the request's normalised path, its query as sent. */
  readonly url: URL;
  /** A CORS preflight (never one that carries override headers: browsers send none on a preflight). */
  readonly preflight: boolean;
  /**
   * Set when forwarded override headers name another method or path: the request's own method
   * and path, which must be admitted too (an origin that ignores the override executes them).
   */
  readonly own: { readonly method: string; readonly path: NormalizedPath } | undefined;
}

export interface TargetRules {
  readonly paths: PathRules;
  readonly forwardOverrideHeaders: boolean;
}

/**
 * Normalises the request's path once: what routes match is exactly what the origin receives.
 * Override headers are read only when the policy forwards them (otherwise they are stripped
 * and nobody downstream sees them).
 */
export function requestTarget(request: Request, url: URL, rules: TargetRules): RequestTarget {
  const path = normalizePath(url.pathname, rules.paths);
  const forwarded = path.path === url.pathname ? url : withPath(url, path.path);
  const overrides = rules.forwardOverrideHeaders ? readOverrides(request.headers, rules.paths) : undefined;
  if (overrides === undefined) {
    return {
      method: routingMethod(request),
      path,
      url: forwarded,
      preflight: isCorsPreflight(request),
      own: undefined,
    };
  }
  return {
    method: overrides.method ?? request.method,
    path: overrides.path ?? path,
    url: forwarded,
    preflight: false,
    own: { method: request.method, path },
  };
}

/** The URL with its path replaced; the path is already normal, so the URL parser keeps it as is. */
function withPath(url: URL, path: string): URL {
  const next = new URL(url);
  next.pathname = path;
  if (next.pathname !== path) throw new VerifierError('malformed_path');
  return next;
}
