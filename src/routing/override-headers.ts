import { VerifierError } from '../errors.ts';
import { type NormalizedPath, normalizePath, type PathNormalization } from './normalize-path.ts';

/**
 * Headers that tell an origin to execute another method than the request's (Express's
 * method-override, Rails, Laravel, ASP.NET): a POST overridden to DELETE would reach a DELETE
 * handler under the POST route's rules.
 */
export const METHOD_OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'] as const;

/** Headers that tell an origin to route another URL than the request's (IIS, Symfony): a known gateway bypass. */
export const URL_OVERRIDE_HEADERS = ['x-original-url', 'x-rewrite-url'] as const;

/** Every override header: never forwarded unless the policy's `forward_override_headers` says so. */
export const OVERRIDE_HEADERS: readonly string[] = [...METHOD_OVERRIDE_HEADERS, ...URL_OVERRIDE_HEADERS];

/** What a request's override headers tell the origin to execute; a member is absent when no header names it. */
export interface Overrides {
  readonly method?: string;
  readonly path?: NormalizedPath;
}

/** RFC 9110 §9.1: a method is a token. */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The method and path the origin would execute, read only when the headers are forwarded. Each
 * header present must say the same thing (several that disagree are refused: an origin may read
 * any one of them), a method must be a token (upper-cased, as the override middlewares do), a
 * URL must be origin-form (`/path?query`), its path normalised like the request's own.
 */
export function readOverrides(headers: Headers, rules: PathNormalization): Overrides | undefined {
  const method = agreed(headers, METHOD_OVERRIDE_HEADERS);
  const url = agreed(headers, URL_OVERRIDE_HEADERS);
  if (method === undefined && url === undefined) return undefined;
  if (method !== undefined && !METHOD.test(method)) throw new VerifierError('invalid_override');
  return {
    ...(method === undefined ? {} : { method: method.toUpperCase() }),
    ...(url === undefined ? {} : { path: overridePath(url, rules) }),
  };
}

/** The one value every present header of the list holds (trimmed); `undefined` when none is present. */
function agreed(headers: Headers, names: readonly string[]): string | undefined {
  let value: string | undefined;
  for (const name of names) {
    const found = headers.get(name)?.trim();
    if (found === undefined) continue;
    // `Headers` joins repeated fields with ", ": two values that disagree, like two headers.
    if (found === '' || (value !== undefined && value !== found)) throw new VerifierError('invalid_override');
    value = found;
  }
  return value;
}

function overridePath(url: string, rules: PathNormalization): NormalizedPath {
  if (!url.startsWith('/') || url.startsWith('//')) throw new VerifierError('invalid_override');
  let pathname: string;
  try {
    pathname = new URL(url, 'https://override.invalid').pathname;
  } catch {
    throw new VerifierError('invalid_override');
  }
  return normalizePath(pathname, rules);
}
