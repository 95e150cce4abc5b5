import { INTROSPECTION_MAX_SIZE_BYTES, INTROSPECTION_TIMEOUT_MS } from '../../constants.ts';
import { bytesToBase64url } from '../../shared/base64url.ts';
import { parseStrictJsonObject } from '../../shared/strict-json.ts';
import { readCapped } from '../remote/fetch-json.ts';

/** An answer as the endpoint sent it: its text, its members, and the text as X-Auth-Claims carries it. */
export interface IntrospectionAnswer {
  readonly body: string;
  readonly members: Readonly<Record<string, unknown>>;
  /** base64url of `body`, encoded once: a cached answer serves many requests. */
  readonly encodedBody: string;
}

export function introspectionAnswer(body: string, members: Readonly<Record<string, unknown>>): IntrospectionAnswer {
  return { body, members, encodedBody: bytesToBase64url(new TextEncoder().encode(body)) };
}

/**
 * Why a call gave no answer: `unavailable` (down, slow, 429, 5xx, not a JSON object; a client
 * should retry), `unauthorized` (401/403: our credentials are wrong), `refused` (400: the server
 * cannot introspect this kind of token, such as oidc-provider for a JWT).
 */
export class IntrospectionFailure extends Error {
  readonly kind: 'unavailable' | 'unauthorized' | 'refused';

  constructor(kind: 'unavailable' | 'unauthorized' | 'refused', message: string) {
    super(message);
    this.name = 'IntrospectionFailure';
    this.kind = kind;
  }
}

/** Deeper answers are not introspection answers. */
const MAX_ANSWER_DEPTH = 16;

/**
 * RFC 7662 §2.1: `POST token=…&token_type_hint=access_token`, client_secret_basic (RFC 6749
 * §2.3.1: each part form-encoded before base64), `Accept: application/json`; bounded in time and
 * size, redirects never followed (a redirect could send the token elsewhere).
 */
export async function callIntrospection(
  endpoint: string,
  token: string,
  client: { readonly id: string; readonly secret: string },
  doFetch: typeof fetch,
): Promise<IntrospectionAnswer> {
  let response: Response;
  try {
    response = await doFetch(endpoint, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${btoa(`${formEncode(client.id)}:${formEncode(client.secret)}`)}`,
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      redirect: 'manual',
      signal: AbortSignal.timeout(INTROSPECTION_TIMEOUT_MS),
    });
  } catch (error) {
    throw new IntrospectionFailure('unavailable', `fetch failed: ${(error as Error).name}`);
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    const status = response.status;
    if (status === 401 || status === 403) throw new IntrospectionFailure('unauthorized', `status ${status}`);
    if (status === 400) throw new IntrospectionFailure('refused', 'status 400');
    throw new IntrospectionFailure('unavailable', `status ${status}`);
  }
  let body: string;
  try {
    body = await readCapped(response, INTROSPECTION_MAX_SIZE_BYTES);
  } catch (error) {
    throw new IntrospectionFailure('unavailable', String((error as Error).message));
  }
  const members = parseStrictJsonObject(body, MAX_ANSWER_DEPTH);
  if (members === undefined) throw new IntrospectionFailure('unavailable', 'answer is not a JSON object');
  return introspectionAnswer(body, members);
}

/** application/x-www-form-urlencoded, as RFC 6749 §2.3.1 asks of the Basic credentials. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}
