/**
 * The library face: the gateway's request guard as Hono middleware (`c.var.auth` typed), for your
 * own Worker; the whole gateway as a Worker handler (`createGateway`); the config parsers; the
 * error codes; and the identity-signature check for origins.
 */
export { type EdgeVerifierOptions, edgeVerifier } from './auth/middleware.ts';
export {
  type Authenticated,
  type AuthResult,
  createVerifier,
  type Verifier,
  type VerifierDeps,
} from './auth/verifier.ts';
export { type Config, type IssuerConfig, parseConfig, type RouteConfig } from './config.ts';
export type { Vars } from './env.ts';
export { ConfigError, ERROR_SPECS, type ErrorCode, InsufficientScopeError, VerifierError } from './errors.ts';
export { createGateway, type Gateway, type GatewayOptions } from './gateway.ts';
export { errorResponse } from './http/problem.ts';
/** For origins: checks the X-Auth-Signature the gateway adds (Workers, Node 20+). */
export { type IdentitySignatureResult, verifyIdentitySignature } from './identity/signature.ts';
export { parsePolicy } from './policy/parse-policy.ts';
export type { Policy } from './policy/schema.ts';
