import type { Env } from '../../src/env.ts';
import { AUDIENCE, type TestIssuer } from './issuer.ts';

/** A POLICY issuer entry for a test issuer tenant (its JWKS URI given, so nothing is discovered). */
export function policyIssuer(issuer: TestIssuer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { issuer: issuer.url, audiences: [AUDIENCE], jwks_uri: issuer.jwksUri, ...extra };
}

/** Worker variables holding only POLICY. */
export function policyVars(policy: Record<string, unknown>, extra: Partial<Env> & Record<string, unknown> = {}): Env {
  return { POLICY: policy, ...extra } as Env;
}
