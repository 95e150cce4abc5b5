import type { AuthResult } from '../auth/verifier.ts';
import type { Config, RouteConfig } from '../config.ts';
import { IDENTITY_SIGNING_SECRET_MIN_LENGTH } from '../constants.ts';
import { ConfigError, VerifierError } from '../errors.ts';
import { IDENTITY_SIGNATURE_HEADER, importIdentityKey, signIdentity } from '../identity/signature.ts';
import { headerPlan, identityHeaderNames, originRequestHeaders } from './headers.ts';

/** The origin URL for a request: the origin's base path, then the request's path and query. */
export function originUrl(origin: string, { pathname, search }: URL): string {
  return `${origin}${pathname}${search}`;
}

export type Forward = (
  request: Request,
  /** The request's URL, already parsed by the caller (route matching read it too). */
  url: URL,
  route: RouteConfig,
  auth: AuthResult | null,
  /** The Worker's bindings, where the signing secret is read. */
  env: unknown,
) => Promise<Response>;

export interface ForwardDeps {
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

/**
 * The proxy for a config: every route's origin checked and the header plan fixed once, here.
 * Sends the request on with its method and body streamed as they arrive, and returns the
 * origin's response as is, also streamed. Redirects go back to the client untouched.
 */
export function createForwarder(config: Config, { fetch: doFetch = fetch, now = Date.now }: ForwardDeps = {}): Forward {
  if (config.origin === undefined && config.routes.some((route) => route.origin === undefined)) {
    throw new ConfigError('ORIGIN', 'is required');
  }
  const plan = headerPlan(config.headers, config.forwardAuthorization);
  const signer = config.signingSecret === undefined ? undefined : identitySigner(config.signingSecret);

  return async (request, url, route, auth, env) => {
    const origin = (route.origin ?? config.origin) as string;
    const method = request.method;
    const headers = originRequestHeaders(request.headers, auth, plan);
    const target = originUrl(origin, url);
    if (auth && signer) {
      const names = identityHeaderNames(headers, plan.mappings);
      headers.set(
        IDENTITY_SIGNATURE_HEADER,
        await signIdentity(await signer(env), {
          timestamp: Math.floor(now() / 1000),
          method,
          pathAndQuery: target.slice(target.indexOf('/', target.indexOf('//') + 2)),
          headers: names.map((name) => [name, headers.get(name) as string] as const),
        }),
      );
    }
    const hasBody = method !== 'GET' && method !== 'HEAD';
    try {
      return await doFetch(target, { method, headers, body: hasBody ? request.body : null, redirect: 'manual' });
    } catch (error) {
      throw new VerifierError('origin_unreachable', undefined, { cause: error });
    }
  };
}

/**
 * The signing key, imported once per secret value. The secret is a binding, read per request: a
 * missing or short one refuses the request (500) rather than forwarding it unsigned.
 */
function identitySigner(secretName: string): (env: unknown) => Promise<CryptoKey> {
  let cached: { readonly secret: string; readonly key: Promise<CryptoKey> } | undefined;
  return (env) => {
    const secret = ((env ?? {}) as Record<string, unknown>)[secretName];
    if (typeof secret !== 'string' || secret.length < IDENTITY_SIGNING_SECRET_MIN_LENGTH) {
      throw new ConfigError(
        'POLICY.sign_headers.secret',
        `names ${secretName}, which must be a secret of at least ${IDENTITY_SIGNING_SECRET_MIN_LENGTH} characters`,
      );
    }
    if (cached?.secret !== secret) cached = { secret, key: importIdentityKey(secret) };
    return cached.key;
  };
}
