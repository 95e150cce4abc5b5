import { FLAT_VARIABLES, type Vars } from './env.ts';
import { ConfigError } from './errors.ts';
import type { Config } from './policy/config-model.ts';
import { policyFromVariables } from './policy/from-variables.ts';
import { type PolicyFallbacks, parsePolicy } from './policy/parse-policy.ts';

export type {
  Access,
  ClaimRule,
  ClaimValue,
  Config,
  DpopMode,
  HeaderMapping,
  IdentityAssertionConfig,
  IdentityAssertionsConfig,
  IssuerConfig,
  PathParameters,
  PathRules,
  RateLimitConfig,
  RateLimitKey,
  ResourceConfig,
  RouteConfig,
  TokenSourceConfig,
} from './policy/config-model.ts';

/**
 * Turns the Worker's variables into a validated `Config`: POLICY when it is set, else the flat
 * variables (one issuer, one catch-all route). Throws `ConfigError` naming the variable or path.
 */
export function parseConfig(vars: Vars): Config {
  const fallbacks = { origin: vars.ORIGIN, realm: vars.REALM, originTimeoutSeconds: vars.ORIGIN_TIMEOUT_SECONDS };
  if (vars.POLICY === undefined || vars.POLICY === '') return parseFlatVariables(vars, fallbacks);
  const alongside = FLAT_VARIABLES.filter((name) => {
    const value: unknown = vars[name];
    return typeof value === 'string' ? value.trim() !== '' : value !== undefined;
  });
  if (alongside.length > 0) {
    throw new ConfigError('POLICY', `cannot be set together with ${alongside.join(', ')}: the policy replaces them`);
  }
  return parsePolicy(vars.POLICY, fallbacks);
}

/**
 * The flat variables through the same schema and compiler as a POLICY; an error is renamed to
 * the variable its path came from.
 */
function parseFlatVariables(vars: Vars, fallbacks: PolicyFallbacks): Config {
  const { policy, variableAt } = policyFromVariables(vars);
  try {
    return parsePolicy(policy, fallbacks);
  } catch (error) {
    const variable = error instanceof ConfigError ? variableAt(error.variable) : undefined;
    throw variable === undefined ? error : new ConfigError(variable, (error as ConfigError).problem);
  }
}
