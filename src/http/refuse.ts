import { VerifierError } from '../errors.ts';
import { type Decision, newDecision } from '../observe/decision.ts';
import type { Reporter } from '../observe/report.ts';
import type { ChallengeContext } from './challenge.ts';
import { errorResponse } from './problem.ts';

/** The refused request, for its decision line. */
export interface RefusedRequest {
  readonly method: string;
  readonly path: string;
  /** What the steps found before the refusal (route, issuer, key). */
  readonly decision?: Decision;
  /** The Worker's bindings, for the Analytics Engine data point. */
  readonly env?: unknown;
}

/**
 * The one boundary where a failure becomes a response: the mapper (`errorResponse`), then the
 * request's decision line. The gateway, the middleware and the misconfigured Worker all answer
 * through here.
 */
export function refuse(
  error: unknown,
  challenge: ChallengeContext,
  report: Reporter,
  request: RefusedRequest,
): Response {
  const failure =
    error instanceof VerifierError ? error : new VerifierError('internal_error', undefined, { cause: error });
  const dpop = request.decision?.dpop;
  const response = errorResponse(failure, dpop ? { ...challenge, dpop } : challenge);
  report(request.env, {
    outcome: failure.code,
    status: failure.status,
    method: request.method,
    path: request.path,
    decision: request.decision ?? newDecision(),
    // What was thrown when it was not ours, or which variable is wrong: never anything from the client.
    error:
      error instanceof VerifierError ? (failure.code === 'config_invalid' ? failure.detail : undefined) : String(error),
  });
  return response;
}
