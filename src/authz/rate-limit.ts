/**
 * Per-caller rate limits, counted by a Workers Rate Limiting binding (`[[ratelimits]]`): the
 * count lives in the data centre, with no round trip to a central store. Checked after
 * authorization, so a refused token never spends a caller's budget, and a caller is counted by
 * who the token says it is rather than by address.
 */
import type { JWTPayload } from 'jose';
import type { RateLimitConfig } from '../config.ts';
import { ConfigError, RateLimitedError } from '../errors.ts';
import type { Logger } from '../observe/log.ts';
import { bytesToBase64url } from '../shared/base64url.ts';
import { claimAt } from '../shared/claim-path.ts';
import { sha256 } from '../shared/digest.ts';

/** The Rate Limiting binding, the part we call (its API is the contract). */
export interface RateLimiter {
  limit(options: { readonly key: string }): Promise<{ readonly success: boolean }>;
}

/** Where a request's Rate Limiting bindings are found: the Worker's env. */
export interface RateLimitIo {
  /** The binding of that name when it is a Rate Limiting binding; absent: no binding is found. */
  rateLimiter?(name: string): RateLimiter | undefined;
}

/** Who a verified request's token says the caller is: the fields of `AuthResult` a key is made of. */
export interface Caller {
  readonly claims: JWTPayload;
  /** The policy's id of the issuer that verified the token: one issuer's `sub` is not another's. */
  readonly issuerId: string;
  /** The tenant its `iss` named under a `{tenantid}` template, so two tenants' users never share a count. */
  readonly tenant: string | undefined;
}

/** Cloudflare's address of the client; a request without it (never one through Cloudflare's network) shares one count. */
const CLIENT_IP_HEADER = 'cf-connecting-ip';

/**
 * What the request is counted by: the keyed claim of the verified token (a string as is,
 * anything else as JSON) together with the issuer and tenant that vouch for it, so a caller of
 * another issuer or tenant holding the same value cannot spend this one's budget; else the
 * client's address, so a token without the claim is still counted, never let through uncounted.
 */
export function rateLimitSubject(limit: RateLimitConfig, caller: Caller | null, request: Request): string {
  if (caller !== null && limit.key.kind !== 'client_ip') {
    const { claims } = caller;
    const value = limit.key.kind === 'client_id' ? (claims.client_id ?? claims.azp) : claimAt(claims, limit.key.claim);
    const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
    if (text !== '') return `claim:${caller.issuerId}\n${caller.tenant ?? ''}\n${text}`;
  }
  return `ip:${request.headers.get(CLIENT_IP_HEADER) ?? ''}`;
}

/**
 * The key sent to the binding: SHA-256 of the route's label and the subject, so two routes that
 * share a binding count apart, and neither the binding nor anything logged holds an identity in clear.
 */
export async function rateLimitKey(routeLabel: string, subject: string): Promise<string> {
  return bytesToBase64url(await sha256(`${routeLabel}\n${subject}`));
}

/**
 * Counts the request against the route's limit; over it, 429 `rate_limited`. A missing binding
 * refuses (500) rather than letting the route go unlimited. A binding that fails lets the
 * request through, logged: the limit protects the origin's capacity, and an outage of the
 * counter must not take the API down with it (Envoy's `failure_mode_deny` defaults the same way).
 */
export async function checkRateLimit(
  limit: RateLimitConfig,
  routeLabel: string,
  caller: Caller | null,
  request: Request,
  io: RateLimitIo,
  log: Logger,
): Promise<void> {
  const limiter = io.rateLimiter?.(limit.binding);
  if (limiter === undefined) throw new ConfigError(limit.binding, 'is not a Rate Limiting binding of this Worker');
  const key = await rateLimitKey(routeLabel, rateLimitSubject(limit, caller, request));
  let success: boolean;
  try {
    ({ success } = await limiter.limit({ key }));
  } catch (error) {
    log('rate_limit_unavailable', { binding: limit.binding, route: routeLabel, error: String(error) });
    return;
  }
  if (!success) throw new RateLimitedError(limit.periodSeconds);
}
