import { INTROSPECTION_UNAVAILABLE_RETRY_AFTER_SECONDS, JWKS_UNAVAILABLE_RETRY_AFTER_SECONDS } from '../constants.ts';
import { ERROR_SPECS, InsufficientScopeError, RateLimitedError, VerifierError } from '../errors.ts';
import { buildChallenge, buildDpopChallenge, type RefusalChallenge } from './challenge.ts';

/**
 * The one place an error becomes a response: status, RFC 6750 challenge and an RFC 9457
 * problem body all come from the error's `code`, so they can never disagree.
 */
export function errorResponse(error: unknown, { dpop, ...challenge }: RefusalChallenge): Response {
  const failure = error instanceof VerifierError ? error : new VerifierError('internal_error');
  const spec = ERROR_SPECS[failure.code];
  const oauthError = 'oauthError' in spec ? spec.oauthError : undefined;
  const headers = new Headers({
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
  });
  if (spec.challenge) {
    const params = {
      ...challenge,
      // RFC 9728 §5.1 names the metadata in 401 and 403 challenges.
      resourceMetadata: spec.status === 401 || spec.status === 403 ? challenge.resourceMetadata : undefined,
      error: oauthError,
      errorDescription: spec.description,
      scope: failure instanceof InsufficientScopeError ? failure.requiredScope : undefined,
    };
    if (!dpop) headers.set('www-authenticate', buildChallenge(params));
    else {
      // RFC 9449 §7.1: a challenge per accepted scheme; the error goes with the scheme the request used.
      const quiet = { ...params, error: undefined, scope: undefined };
      const forDpop =
        !dpop.bearer ||
        dpop.scheme === 'dpop' ||
        failure.code === 'dpop_required' ||
        oauthError === 'invalid_dpop_proof' ||
        oauthError === 'use_dpop_nonce';
      if (dpop.bearer) headers.append('www-authenticate', buildChallenge(forDpop ? quiet : params));
      headers.append('www-authenticate', buildDpopChallenge(dpop.algs, forDpop ? params : quiet));
    }
  }
  if (failure.dpopNonce) headers.set('dpop-nonce', failure.dpopNonce);
  if (failure.code === 'jwks_unavailable') headers.set('retry-after', String(JWKS_UNAVAILABLE_RETRY_AFTER_SECONDS));
  if (failure.code === 'introspection_unavailable') {
    headers.set('retry-after', String(INTROSPECTION_UNAVAILABLE_RETRY_AFTER_SECONDS));
  }
  if (failure instanceof RateLimitedError) headers.set('retry-after', String(failure.retryAfterSeconds));
  // RFC 9110 §15.5.6: a 405 lists the methods the resource allows (only the documents the Worker serves answer 405).
  if (failure.code === 'method_not_allowed') headers.set('allow', 'GET, HEAD');

  const body = {
    type: `urn:edge-verifier:error:${failure.code}`,
    title: spec.description,
    status: spec.status,
    code: failure.code,
    ...(oauthError ? { error: oauthError } : {}),
    // Only configuration problems carry detail: it names the variable and holds nothing from the client.
    ...(failure.code === 'config_invalid' && failure.detail ? { detail: failure.detail } : {}),
  };
  return new Response(JSON.stringify(body), { status: spec.status, headers });
}
