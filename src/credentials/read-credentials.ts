import { VerifierError } from '../errors.ts';
import type { Credentials, TokenSource } from './token-source.ts';

/**
 * The request's token from the route's sources, or `undefined` when it carries none. RFC 6750 §2:
 * a client must not send its token in more than one way, and the `access_token` query form is
 * not one we read, so a request that has it is refused outright.
 */
export function readCredentials(sources: readonly TokenSource[], request: Request, url: URL): Credentials | undefined {
  let found: Credentials | undefined;
  for (const source of sources) {
    const read = source.read(request, url);
    if (read === undefined) continue;
    if (found !== undefined) throw new VerifierError('malformed_authorization');
    found = read;
  }
  if (found !== undefined && url.search && url.searchParams.has('access_token')) {
    throw new VerifierError('malformed_authorization');
  }
  return found;
}
