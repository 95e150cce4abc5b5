/**
 * The traffic: which kinds of request the soak sends, how often, what each must get back, and
 * the method and body of each. Bodies are bounded in all: the run's byte budget is spread
 * evenly over its requests, so large bodies come throughout and the total fits the time.
 */
import type { Random } from './random.ts';

export type Kind =
  | 'valid'
  | 'expired'
  | 'forged'
  | 'unknown_kid'
  | 'malformed_token'
  | 'malformed_authorization'
  | 'retired';

/** What the Worker must answer (docs/reference/responses.md): the status and, for a refusal, the problem's `code`. */
export const EXPECTED: Readonly<Record<Kind, { status: number; code?: string }>> = {
  valid: { status: 200 },
  expired: { status: 401, code: 'token_expired' },
  // Signed by a key the issuer never published, under the kid of one it did.
  forged: { status: 401, code: 'bad_signature' },
  unknown_kid: { status: 401, code: 'unknown_kid' },
  malformed_token: { status: 401, code: 'malformed_token' },
  malformed_authorization: { status: 400, code: 'malformed_authorization' },
  // A token of the withdrawn key, sent only once the Worker has fetched the JWKS without it.
  retired: { status: 401, code: 'unknown_kid' },
};

/** Shares in percent; `retired` only once the old key is gone, so valid tokens stay about 70 %. */
export function kindWeights(oldKeyGone: boolean): Record<Kind, number> {
  return {
    valid: 70,
    expired: 6,
    forged: 6,
    unknown_kid: 6,
    malformed_token: 5,
    malformed_authorization: 5,
    retired: oldKeyGone ? 2 : 0,
  };
}

const KB = 1024;
const MB = 1024 * KB;

/** POST body sizes in bytes, each class with its share in percent: mostly small, a few up to 5 MB. */
const BODY_SIZES = {
  tiny: { min: 0, max: KB },
  small: { min: KB, max: 64 * KB },
  medium: { min: 64 * KB, max: MB },
  large: { min: MB, max: 5 * MB },
} as const;
const BODY_SIZE_SHARES: Record<keyof typeof BODY_SIZES, number> = { tiny: 70, small: 24, medium: 5, large: 1 };
const POST_SHARE = 0.6;
/**
 * A refused request's body is never read, and an HTTP server that answers before reading a body
 * closes the connection under the client's upload. Through `wrangler dev`'s proxy a client then
 * gets a reset or a 500 "Network connection lost" instead of the 401, from about 16 KB on under
 * concurrency, with any Worker that does not read the body (bare workerd: from about 1 MB).
 * Refused requests stay below that, so what the soak checks is the Worker's answer.
 */
export const REFUSED_BODY_MAX_BYTES = 8 * KB;

export interface BodyPlan {
  /**
   * Method and body size of request `index`: a body that does not fit the budget so far shrinks
   * to at most 1 KB, one of a request to be refused to at most `REFUSED_BODY_MAX_BYTES`.
   */
  next(index: number, refused: boolean, random: Random): { method: 'GET' | 'POST'; bodyBytes: number };
  readonly sentBytes: () => number;
  readonly largestBytes: () => number;
}

export function createBodyPlan(requests: number, budgetBytes: number): BodyPlan {
  let sent = 0;
  let largest = 0;
  return {
    next(index, refused, random) {
      if (random.next() >= POST_SHARE) return { method: 'GET', bodyBytes: 0 };
      const size = BODY_SIZES[random.weighted(BODY_SIZE_SHARES)];
      let bodyBytes = random.between(size.min, size.max);
      if (refused) bodyBytes = Math.min(bodyBytes, random.between(0, REFUSED_BODY_MAX_BYTES));
      // Allowance so far: the budget in proportion to the requests planned.
      if (sent + bodyBytes > (budgetBytes * (index + 1)) / requests) bodyBytes = random.between(0, BODY_SIZES.tiny.max);
      sent += bodyBytes;
      largest = Math.max(largest, bodyBytes);
      return { method: 'POST', bodyBytes };
    },
    sentBytes: () => sent,
    largestBytes: () => largest,
  };
}
