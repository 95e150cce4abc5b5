import { VerifierError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ChallengeContext } from './challenge.ts';
import { errorResponse } from './problem.ts';

/** Where a refused request came from, for its log line. */
export interface RefusedRequest {
  readonly method: string;
  readonly path: string;
}

/**
 * The one boundary where a failure becomes a response: one log line per refusal (its code,
 * and for anything unexpected what was thrown), then the mapper (`errorResponse`). The
 * gateway, the middleware and the misconfigured Worker all answer through here.
 */
export function refuse(error: unknown, challenge: ChallengeContext, log: Logger, request?: RefusedRequest): Response {
  const expected = error instanceof VerifierError;
  const failure = expected ? error : new VerifierError('internal_error', undefined, { cause: error });
  log('request_refused', {
    code: failure.code,
    ...request,
    ...(expected ? {} : { error: String(error) }),
    ...(failure.code === 'config_invalid' && failure.detail ? { detail: failure.detail } : {}),
  });
  return errorResponse(failure, challenge);
}
