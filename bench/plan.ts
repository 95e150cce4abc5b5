/**
 * What one round measures: each system with the token modes that tell something about it,
 * each paired with its own no-auth ceiling.
 */
import { startHaproxy } from './systems/haproxy.ts';
import { startNodePeer } from './systems/node-peers.ts';
import type { Running } from './systems/process.ts';
import { startWorkerd, type WorkerName } from './systems/workerd.ts';
import type { Alg } from './tokens.ts';

/** Ceilings get the repeated RS256 token, unchecked, so they parse and forward the same bytes as what they bound. */
export type Mode =
  | 'token not checked'
  | 'repeated RS256'
  | 'unique RS256'
  | 'unique ES256'
  | 'zipf RS256'
  /** Each token used 10 times: opaque tokens introspected at the dev issuer, and the same as RS256 JWTs. */
  | 'opaque ×10'
  | 'RS256 ×10';

export interface Measurement {
  readonly system: string;
  readonly mode: Mode;
  /** Key (`system | mode`) of the measurement this one is compared with; empty for a ceiling. */
  readonly ceiling: string;
  /** A peer measured without ES256 still gets one ES256 request, to show whether it could. */
  readonly probeEs256: boolean;
  start(): Promise<Running>;
}

export interface PlanContext {
  readonly bundles: Record<WorkerName, string>;
  readonly origin: Running;
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
  readonly pemFiles: Record<Alg, string>;
  /** The public JWKs, for system V's single verify. */
  readonly publicJwks: Record<Alg, string>;
  readonly workDir: string;
  readonly withHaproxy: boolean;
  /** Measure the peers with unique ES256 tokens too (longer than the 8-minute budget). */
  readonly peersEs256: boolean;
  /** The dev issuer's RFC 7662 endpoint and the client it answers. */
  readonly introspection: { readonly endpoint: string; readonly clientId: string; readonly secret: string };
}

export const key = (m: { system: string; mode: string }) => `${m.system} | ${m.mode}`;

const A = 'A workerd pass-through';
/** System V's keys, for the measured crypto floor of each algorithm. */
export const RAW_VERIFY = {
  RS256: 'V raw verify only | unique RS256',
  ES256: 'V raw verify only | unique ES256',
} as const;
const DE0 = 'D0/E0 express proxy';
const F0 = 'F0 haproxy';

export function plan(context: PlanContext): Measurement[] {
  const { bundles, origin, issuer, audience, jwksUri } = context;
  const vars = { ISSUER: issuer, AUDIENCE: audience, JWKS_URI: jwksUri, ORIGIN: origin.url };
  const haproxy = (withJwt: boolean) => () =>
    startHaproxy({
      withJwt,
      origin: origin.url,
      pemFiles: context.pemFiles,
      issuer,
      audience,
      workDir: context.workDir,
    });
  // No peer keeps a cache of verified tokens, so a repeated token costs them what a unique one
  // does; unique tokens are the comparison where no cache helps anyone.
  const peerModes: Mode[] = context.peersEs256 ? ['unique RS256', 'unique ES256'] : ['unique RS256'];
  const peer = (system: string, ceiling: string, start: () => Promise<Running>): Measurement[] =>
    peerModes.map((mode) => ({ system, mode, ceiling, probeEs256: !context.peersEs256, start }));
  const ceiling = (system: string, start: () => Promise<Running>): Measurement => ({
    system,
    mode: 'token not checked',
    ceiling: '',
    probeEs256: false,
    start,
  });
  const ceilingKey = (system: string) => key({ system, mode: 'token not checked' });

  return [
    ceiling('G origin direct', async () => ({ ...origin, stop: async () => {} })),
    ceiling(A, () => startWorkerd('a', bundles.passthrough, { ORIGIN: origin.url })),
    ...(['repeated RS256', 'unique RS256', 'unique ES256', 'zipf RS256'] as const).map((mode) => ({
      system: 'B edge-verifier',
      mode,
      ceiling: ceilingKey(A),
      probeEs256: false,
      start: () => startWorkerd('b', bundles['edge-verifier'], vars),
    })),
    ...(['opaque ×10', 'RS256 ×10'] as const).map((mode) => ({
      system: 'B edge-verifier',
      mode,
      ceiling: ceilingKey(A),
      probeEs256: false,
      start: () =>
        startWorkerd('b', bundles['edge-verifier'], {
          ...vars,
          INTROSPECTION_ENDPOINT: context.introspection.endpoint,
          INTROSPECTION_CLIENT_ID: context.introspection.clientId,
          INTROSPECTION_CLIENT_SECRET: 'BENCH_INTROSPECTION_SECRET',
          BENCH_INTROSPECTION_SECRET: context.introspection.secret,
        }),
    })),
    ...(['RS256', 'ES256'] as const).map((alg) => ({
      system: 'V raw verify only',
      mode: `unique ${alg}` as const,
      ceiling: ceilingKey(A),
      probeEs256: false,
      start: () =>
        startWorkerd('v', bundles['raw-verify'], { ORIGIN: origin.url, ALG: alg, JWK: context.publicJwks[alg] }),
    })),
    ...peer('C hono/jwk', ceilingKey(A), () => startWorkerd('c', bundles['hono-jwk'], vars)),
    ceiling(DE0, () => startNodePeer('none', vars)),
    ...peer('D express-oauth-jwt', ceilingKey(DE0), () => startNodePeer('express-oauth-jwt', vars)),
    ...peer('E jwks-rsa + jsonwebtoken', ceilingKey(DE0), () => startNodePeer('jwks-rsa', vars)),
    ...(context.withHaproxy
      ? [ceiling(F0, haproxy(false)), ...peer('F haproxy jwt_verify (static PEM)', ceilingKey(F0), haproxy(true))]
      : []),
  ];
}
