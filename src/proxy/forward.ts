import type { AuthResult } from '../auth/verifier.ts';
import { VerifierError } from '../errors.ts';
import { originRequestHeaders } from './headers.ts';

/** The origin URL for a request: ORIGIN's base path, then the request's path and query. */
export function originUrl(origin: string, { pathname, search }: URL): string {
  return `${origin}${pathname}${search}`;
}

/**
 * Sends the request on with its method and body streamed as they arrive, and returns the
 * origin's response as is, also streamed. Redirects go back to the client untouched.
 */
export async function forwardToOrigin(
  request: Request,
  /** The request's URL, already parsed by the caller (the route policy read it too). */
  url: URL,
  origin: string,
  auth: AuthResult | null,
  doFetch: typeof fetch = fetch,
): Promise<Response> {
  const method = request.method;
  const hasBody = method !== 'GET' && method !== 'HEAD';
  try {
    return await doFetch(originUrl(origin, url), {
      method,
      headers: originRequestHeaders(request.headers, auth),
      body: hasBody ? request.body : null,
      redirect: 'manual',
    });
  } catch (error) {
    throw new VerifierError('origin_unreachable', undefined, { cause: error });
  }
}
