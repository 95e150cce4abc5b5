/**
 * The library face: the gateway's request guard as Hono middleware (`c.var.auth` typed), for your
 * own Worker; the whole gateway as a Worker handler (`createGateway`); the config parsers; the
 * error codes; and the identity-signature check for origins.
 */

export { type Config, type IssuerConfig, parseConfig, type RouteConfig } from './config.ts';
export type { Vars } from './env.ts';
export {
  ConfigError,
  ERROR_SPECS,
  type ErrorCode,
  InsufficientScopeError,
  RateLimitedError,
  VerifierError,
} from './errors.ts';
export { type EdgeVerifierOptions, edgeVerifier } from './hono/middleware.ts';
export { errorResponse } from './http/problem.ts';
/** For origins: checks the X-Auth-Signature the gateway adds (Workers, Node 20+). */
export { type IdentitySignatureResult, verifyIdentitySignature } from './identity/signature.ts';
export { parsePolicy } from './policy/parse-policy.ts';
export type { Policy } from './policy/schema.ts';
export {
  type Authenticated,
  type AuthResult,
  createVerifier,
  type Verifier,
  type VerifierDeps,
} from './verifier.ts';
export { createGateway, type Gateway, type GatewayOptions } from './worker/gateway.ts';
