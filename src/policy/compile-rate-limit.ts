import { ConfigError } from '../errors.ts';
import type { RateLimitConfig, RateLimitKey } from './config-model.ts';
import type { PolicyRateLimit } from './schema.ts';

/**
 * A route's `rate_limit`. `client_ip` and `client_id` name what they say (the latter the
 * token's `client_id`, else its `azp`, as audiences are matched); anything else is a claim path.
 * A public route has no token, so only the client's address can key it.
 */
export function compileRateLimit(at: string, limit: PolicyRateLimit, isPublic: boolean): RateLimitConfig {
  const key: RateLimitKey =
    limit.key === 'client_ip'
      ? { kind: 'client_ip' }
      : limit.key === 'client_id'
        ? { kind: 'client_id' }
        : { kind: 'claim', claim: limit.key };
  if (isPublic && key.kind !== 'client_ip') {
    throw new ConfigError(`${at}.key`, 'must be client_ip on a public route: it has no token to read a claim from');
  }
  return { binding: limit.binding, periodSeconds: limit.period_seconds, key };
}
