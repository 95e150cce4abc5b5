import { VerifierError } from '../errors.ts';
import type { PathRules } from '../policy/config-model.ts';
import { isCorsPreflight } from './cors-preflight.ts';
import { type NormalizedPath, normalizePath } from './normalize-path.ts';
import { readOverrides } from './override-headers.ts';

/** What a request is routed by, and what the origin will receive. */
export interface RequestTarget {
  /** The method routes match: an override's, a preflight's announced one, else the request's own. */
  readonly method: string;
  /** The path routes match: an override's, else the request's own, normalised. */
  readonly path: NormalizedPath;
  /** The request's path as sent (after the URL parser), for the decision line when it differs. */
  readonly sentPath: string;
  /** The request's own method, as sent: what the origin receives, whatever routes matched. */
  readonly sentMethod: string;
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
 * A CORS preflight is routed by the method it announces, so `methods: ["POST"]` covers the
 * POST's preflight. Override headers are read only when the policy forwards them (otherwise
 * they are stripped and nobody downstream sees them).
 */
export function requestTarget(request: Request, url: URL, rules: TargetRules): RequestTarget {
  const sentPath = url.pathname;
  const path = normalizePath(sentPath, rules.paths);
  const forwarded = path.path === sentPath ? url : withPath(url, path.path);
  const method = request.method;
  const overrides = rules.forwardOverrideHeaders ? readOverrides(request.headers, rules.paths) : undefined;
  if (overrides === undefined) {
    const preflight = method === 'OPTIONS' && isCorsPreflight(request);
    const routed = preflight ? (request.headers.get('access-control-request-method') ?? method) : method;
    return { method: routed, path, sentPath, sentMethod: method, url: forwarded, preflight, own: undefined };
  }
  return {
    method: overrides.method ?? method,
    path: overrides.path ?? path,
    sentPath,
    sentMethod: method,
    url: forwarded,
    preflight: false,
    own: { method, path },
  };
}

/** The URL with its path replaced; the path is already normal, so the URL parser keeps it as is. */
function withPath(url: URL, path: string): URL {
  const next = new URL(url);
  next.pathname = path;
  if (next.pathname !== path) throw new VerifierError('malformed_path');
  return next;
}
