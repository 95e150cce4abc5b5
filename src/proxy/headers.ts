import type { Config, HeaderMapping } from '../config.ts';
import { OVERRIDE_HEADERS } from '../routing/override-headers.ts';
import type { AuthResult } from '../verifier.ts';
import { AUTH_HEADER_PREFIX, NOT_FORWARDED } from './header-names.ts';
import { isHeaderSafe, setMappedHeaders } from './identity-headers.ts';
import { isWebSocketUpgrade } from './websocket.ts';

/** What the policy says about the origin's request headers, fixed when the gateway is built. */
export interface HeaderPlan {
  /**
   * Client headers never forwarded: hop-by-hop, the mapped and identity assertion names,
   * `authorization` when it is not forwarded, and the method and URL override headers unless
   * the policy forwards them.
   */
  readonly removed: ReadonlySet<string>;
  readonly mappings: readonly HeaderMapping[];
}

export interface HeaderRules {
  readonly headers: readonly HeaderMapping[];
  readonly forwardAuthorization: boolean;
  readonly forwardOverrideHeaders: boolean;
  readonly identityAssertions?: Config['identityAssertions'];
}

export function headerPlan({
  headers: mappings,
  forwardAuthorization,
  forwardOverrideHeaders,
  identityAssertions,
}: HeaderRules): HeaderPlan {
  const removed = new Set([
    ...NOT_FORWARDED,
    ...mappings.map((mapping) => mapping.name),
    ...(identityAssertions?.headers ?? []),
  ]);
  if (!forwardAuthorization) removed.add('authorization');
  if (!forwardOverrideHeaders) for (const name of OVERRIDE_HEADERS) removed.add(name);
  return { removed, mappings };
}

/**
 * Turns `outgoing`, a copy of the client's headers `incoming`, into the headers the origin
 * receives: minus hop-by-hop fields (and those the client's `Connection` names), minus every
 * `X-Auth-*` and mapped name, plus our identity headers when verified. A WebSocket handshake
 * keeps its `Upgrade: websocket`. Runs on every request, where each call into `Headers` is a
 * crossing into the runtime (a few thousand instructions): one pass over the client's names,
 * then deletes only for names the request actually has, and the `Upgrade` value read only when
 * the request has one. The copy is the one the origin request's constructor makes, edited in
 * place: a second copy of every header would cost as much as the pass.
 */
export function editOriginHeaders(
  outgoing: Headers,
  incoming: Headers,
  method: string,
  auth: AuthResult | null,
  plan: HeaderPlan,
): void {
  let hasConnection = false;
  let hasUpgrade = false;
  for (const name of incoming.keys()) {
    if (name === 'connection') hasConnection = true;
    else if (name === 'upgrade') hasUpgrade = true;
    if (plan.removed.has(name) || name.startsWith(AUTH_HEADER_PREFIX)) outgoing.delete(name);
  }
  if (hasConnection) {
    for (const listed of (incoming.get('connection') ?? '').split(',')) {
      const name = listed.trim().toLowerCase();
      if (name) outgoing.delete(name);
    }
  }
  if (hasUpgrade && method === 'GET' && isWebSocketUpgrade(incoming)) outgoing.set('upgrade', 'websocket');
  if (auth) {
    // A subject that cannot be a header value exactly is left out; the origin still has it in X-Auth-Claims.
    if (auth.subject !== undefined && isHeaderSafe(auth.subject)) outgoing.set('x-auth-subject', auth.subject);
    outgoing.set('x-auth-claims', auth.encodedClaims);
    if (plan.mappings.length > 0) setMappedHeaders(outgoing, auth.claims, plan.mappings);
  }
}

/** The identity headers set on this request, in the order they are signed: the identity assertion's last. */
export function identityHeaderNames(
  headers: Headers,
  mappings: readonly HeaderMapping[],
  assertionHeader?: string,
): string[] {
  const names = headers.has('x-auth-subject') ? ['x-auth-subject', 'x-auth-claims'] : ['x-auth-claims'];
  for (const { name } of mappings) if (headers.has(name)) names.push(name);
  if (assertionHeader !== undefined) names.push(assertionHeader);
  return names;
}
