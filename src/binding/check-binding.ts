import type { JWTPayload } from 'jose';
import type { DpopMode, IssuerConfig, RouteConfig } from '../config.ts';
import { HMAC_ALGORITHMS } from '../constants.ts';
import type { Credentials } from '../credentials/token-source.ts';
import { type DpopChallenge, VerifierError } from '../errors.ts';
import type { Logger } from '../observe/log.ts';
import type { Clock } from '../shared/clock.ts';
import { createDpopCheck, type DpopIo } from './dpop.ts';
import { checkSenderConstraint } from './sender-constraint.ts';

/** What a route decides of sender binding, compiled once next to it. */
export interface RouteBinding {
  /** What its refusals say of DPoP (RFC 9449 §7.1); `undefined` when none of its issuers accepts DPoP here. */
  readonly dpop: Omit<DpopChallenge, 'scheme'> | undefined;
  /** Each of its issuers' DPoP mode on this route (the route's own `dpop` over the issuer's). */
  readonly modes: ReadonlyMap<string, DpopMode>;
}

/** A route accepts DPoP when one of its issuers does there; it accepts Bearer unless all of them require DPoP. */
export function compileRouteBinding(route: RouteConfig): RouteBinding {
  const modes = new Map(route.issuers.map((issuer) => [issuer.id, route.dpop ?? issuer.dpop]));
  const accepting = route.issuers.filter((issuer) => modes.get(issuer.id) !== 'off');
  return {
    modes,
    dpop:
      accepting.length === 0
        ? undefined
        : {
            algs: [...new Set(accepting.flatMap(proofAlgorithms))],
            bearer: [...modes.values()].some((mode) => mode !== 'required'),
          },
  };
}

/** A DPoP proof is signed by the client's own key pair: never an HMAC, whatever the issuer's tokens use. */
function proofAlgorithms(issuer: IssuerConfig): readonly string[] {
  return issuer.algorithms.filter((alg) => !Object.hasOwn(HMAC_ALGORITHMS, alg));
}

export interface BindingCheck {
  /** Before any verification work: whether the route takes the scheme the token came under at all. */
  acceptsScheme(scheme: Credentials['scheme'], route: RouteBinding): void;
  /**
   * After the token verified: the proof its scheme asks for, a DPoP proof of the key it is bound
   * to (RFC 9449 §7.1), once only; or, under `required`, refused as a Bearer token. Then its
   * `cnf` binding (RFC 8705 §3). On every request, whether the token came from the cache or not.
   */
  check(
    token: { readonly issuer: IssuerConfig; readonly claims: JWTPayload; readonly credentials: Credentials },
    route: RouteBinding,
    request: Request,
    url: URL,
    io: DpopIo,
  ): Promise<void>;
}

/** Built once per isolate: the DPoP check holds the isolate's replay record and nonce key. */
export function createBindingCheck(clock: Clock, log: Logger): BindingCheck {
  const dpop = createDpopCheck(clock, log);
  return {
    acceptsScheme(scheme, route) {
      if (scheme === 'dpop' && !route.dpop) throw new VerifierError('unsupported_scheme');
      // Every issuer of the route requires DPoP: a Bearer token is refused before any verification work.
      if (scheme === 'bearer' && route.dpop?.bearer === false) throw new VerifierError('dpop_required');
    },
    async check({ issuer, claims, credentials }, route, request, url, io) {
      if (!route.dpop) return checkSenderConstraint(claims, request);
      const mode = route.modes.get(issuer.id);
      if (credentials.scheme === 'dpop') {
        if (mode === 'off') throw new VerifierError('unsupported_scheme');
        const context = {
          method: request.method,
          url,
          accessToken: credentials.token,
          algorithms: proofAlgorithms(issuer),
        };
        return dpop.prove(request.headers.get('dpop'), context, io, ({ jkt }) =>
          checkSenderConstraint(claims, request, jkt),
        );
      }
      if (mode === 'required') throw new VerifierError('dpop_required');
      checkSenderConstraint(claims, request);
    },
  };
}
