import type { Config, RouteConfig, TokenSourceConfig } from '../config.ts';
import { IDENTITY_SIGNING_SECRET_MIN_LENGTH } from '../constants.ts';
import { compileTokenSources } from '../credentials/compile-sources.ts';
import type { TokenSource } from '../credentials/token-source.ts';
import { ConfigError, VerifierError } from '../errors.ts';
import type { IdentityAssertions } from '../identity/identity-assertions.ts';
import { IDENTITY_SIGNATURE_HEADER, importIdentityKey, signIdentity } from '../identity/signature.ts';
import type { Authenticated } from '../verifier.ts';
import { readBinding, readSecret, secretParser } from '../worker/secrets.ts';
import { editOriginHeaders, headerPlan, identityHeaderNames } from './headers.ts';

/** The origin URL for a request: the origin's base path, then the request's path and query. */
export function originUrl(origin: string, { pathname, search }: URL): string {
  return `${origin}${pathname}${search}`;
}

/**
 * The URL handed to a service binding: the request's own host, path and query. The binding routes
 * by itself and ignores the host, but the Worker behind it sees the URL, and the signature covers
 * the path and query it receives.
 */
function serviceUrl({ host, pathname, search }: URL): string {
  return `https://${host}${pathname}${search}`;
}

export type Forward = (
  request: Request,
  /** What the guard admitted: the route, the URL the origin receives (parsed once), the method as sent, the identity. */
  admitted: Pick<Authenticated, 'route' | 'url' | 'method' | 'auth'>,
  /** The Worker's bindings, where the signing secret is read. */
  env: unknown,
  /**
   * When the request is sent, in epoch milliseconds: the identity signature's timestamp and the
   * identity assertion's clock. The caller's one reading (a clock read is a call into the runtime).
   */
  sentAtMs: number,
) => Promise<Response>;

export interface ForwardDeps {
  readonly fetch?: typeof fetch;
  /** The identity assertions a verified request carries (`createIdentityAssertions`). Default: none. */
  readonly assertions?: IdentityAssertions | undefined;
}

/**
 * The proxy for a config: every route's origin checked and the header plan fixed once, here.
 * Sends the request on with its method and body streamed as they arrive, and returns the
 * origin's response as is, also streamed. Redirects go back to the client untouched; a WebSocket
 * upgrade is passed on and the origin's 101 returned with its socket. An origin is a URL or a
 * Worker service binding; both get the same request, headers and error mapping.
 */
export function createForwarder(config: Config, { fetch: doFetch = fetch, assertions }: ForwardDeps = {}): Forward {
  const hasOwn = (level: Pick<RouteConfig, 'origin' | 'originService'>) =>
    level.origin !== undefined || level.originService !== undefined;
  if (!hasOwn(config) && !config.routes.every(hasOwn)) throw new ConfigError('ORIGIN', 'is required');
  const plan = headerPlan(config);
  /**
   * The sources whose token the header plan has not removed already: `Authorization` is among
   * the plan's removed names whenever tokens are not forwarded, and a delete costs a call into
   * the runtime per request. Built once per source list.
   */
  const strippedBySource = new WeakMap<readonly TokenSourceConfig[], readonly TokenSource[]>();
  const stripped = (configs: readonly TokenSourceConfig[]): readonly TokenSource[] => {
    let sources = strippedBySource.get(configs);
    if (sources === undefined) {
      sources = compileTokenSources(configs).sources.filter(
        (source) => source.header === undefined || !plan.removed.has(source.header),
      );
      strippedBySource.set(configs, sources);
    }
    return sources;
  };
  const signer = config.signingSecret === undefined ? undefined : identitySigner(config.signingSecret);

  return async (request, { route, url, method, auth }, env, sentAtMs) => {
    // The nearest level that names an origin decides, by URL or by service binding.
    const base = hasOwn(route) ? route.origin : config.origin;
    // A binding is not a variable: read per request, checked before anything is sent.
    const service =
      base === undefined ? serviceBinding(env, (route.originService ?? config.originService) as string) : undefined;
    const incoming = request.headers;
    const target = base === undefined ? serviceUrl(url) : originUrl(base, url);
    const hasBody = method !== 'GET' && method !== 'HEAD';
    const abort = new AbortController();
    // The origin request is built first and its headers (the constructor's copy of the client's)
    // edited in place; fetch sends a Request given alone as it is, without another copy.
    const outgoing = new Request(target, {
      method,
      headers: incoming,
      body: hasBody ? uploadAbortingOnFailure(request.body, abort) : null,
      redirect: 'manual',
      signal: abort.signal,
    });
    const headers = outgoing.headers;
    editOriginHeaders(headers, incoming, method, auth, plan);
    // The token stays where the client put it unless the policy says otherwise.
    if (!config.forwardAuthorization) {
      for (const source of stripped(route.tokenSources ?? config.tokenSources)) source.strip(headers);
    }
    // Set after the client's copy was stripped, and before the signature, which covers it.
    const assertionHeader = auth ? route.identityAssertion?.header : undefined;
    if (auth && assertionHeader !== undefined && assertions) {
      const assertion = assertions.assertionFor(route, auth, env, sentAtMs) as string | Promise<string>;
      headers.set(assertionHeader, typeof assertion === 'string' ? assertion : await assertion);
    }
    if (auth && signer) {
      const names = identityHeaderNames(headers, plan.mappings, assertionHeader);
      headers.set(
        IDENTITY_SIGNATURE_HEADER,
        await signIdentity(await signer(env), {
          timestamp: Math.floor(sentAtMs / 1000),
          method,
          pathAndQuery: target.slice(target.indexOf('/', target.indexOf('//') + 2)),
          headers: names.map((name) => [name, headers.get(name) as string] as const),
        }),
      );
    }
    // Bounds the wait for the response headers only: once they arrive the timer is cleared, so
    // a body that has started streaming, or a WebSocket past its 101, is never cut.
    const timeoutMs = route.originTimeoutMs ?? config.originTimeoutMs;
    const timer = setTimeout(() => abort.abort(new VerifierError('origin_timeout')), timeoutMs);
    try {
      return await (service ? service.fetch(outgoing) : doFetch(outgoing));
    } catch (error) {
      const reason: unknown = abort.signal.reason;
      if (abort.signal.aborted && reason instanceof VerifierError) throw reason;
      throw new VerifierError('origin_unreachable', undefined, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * The client's body, piped on to the origin. When the client's upload fails mid-way, the runtime
 * would end the origin's request body as if it were complete (a shorter body the origin cannot
 * tell from a whole one); aborting the origin request instead makes the origin see it fail.
 */
function uploadAbortingOnFailure(body: ReadableStream | null, abort: AbortController): ReadableStream | null {
  if (body === null) return null;
  // workerd's native identity stream moves bytes without a JS call per chunk (a JS TransformStream
  // made 4 MB uploads about 5 times slower); elsewhere, the standard one.
  const Identity = typeof IdentityTransformStream === 'function' ? IdentityTransformStream : TransformStream;
  const { readable, writable } = new Identity();
  body.pipeTo(writable).catch(() => abort.abort(new VerifierError('upload_aborted')));
  return readable;
}

/** The service binding an origin names; a missing one refuses the request (500) rather than forwarding it elsewhere. */
function serviceBinding(env: unknown, name: string): Fetcher {
  const binding = readBinding(env, name) as Partial<Fetcher> | undefined;
  if (typeof binding?.fetch !== 'function') {
    throw new ConfigError(name, 'is not a service binding of this Worker');
  }
  return binding as Fetcher;
}

/**
 * The signing key, imported once per secret value. The secret is a binding, read per request: a
 * missing or short one refuses the request (500) rather than forwarding it unsigned.
 */
function identitySigner(secretName: string): (env: unknown) => Promise<CryptoKey> {
  const keyOf = secretParser(importIdentityKey);
  return (env) => {
    const secret = readSecret(env, secretName);
    if (secret === undefined || secret.length < IDENTITY_SIGNING_SECRET_MIN_LENGTH) {
      throw new ConfigError(
        'POLICY.sign_headers.secret',
        `names ${secretName}, which must be a secret of at least ${IDENTITY_SIGNING_SECRET_MIN_LENGTH} characters`,
      );
    }
    return keyOf(secret);
  };
}
