/** The library face: the gateway's request guard as Hono middleware (`c.var.auth` typed), for your own Worker. */
export { type EdgeVerifierOptions, edgeVerifier } from './auth/middleware.ts';
export { type AuthResult, createVerifier, type Verifier, type VerifierDeps } from './auth/verifier.ts';
export { type Config, type IssuerConfig, parseConfig } from './config.ts';
export { ConfigError, ERROR_SPECS, type ErrorCode, InsufficientScopeError, VerifierError } from './errors.ts';
export { errorResponse } from './http/problem.ts';
