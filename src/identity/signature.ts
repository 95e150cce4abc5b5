/**
 * The signed identity the gateway adds to every request it forwards, and the check an origin runs
 * on it. Identity headers alone prove nothing to an origin that can be reached some other way; this
 * header lets it tell ours from a client's. The format is a public contract, implemented by origins
 * too:
 *
 *   X-Auth-Signature: t=<unix seconds>,h=<names>,v1=<signature>
 *
 * `h` lists the lower-case names of the identity headers signed, comma-separated, in the order
 * signed (empty when there are none). `v1` is base64url without padding of HMAC-SHA256, keyed with
 * the secret's UTF-8 bytes, over these lines joined by `\n` (no trailing newline): `v1`, `t`, the
 * method, the path and query as the origin receives them, then `name:value` per name in `h`.
 *
 * What it does not cover: the body and every header left out of `h`. A captured request can be
 * replayed, with another body, until it is `maxAgeSeconds` old; origins for which that matters need
 * their own replay check.
 */

import { base64urlToBinary, bytesToBase64url } from '../shared/base64url.ts';

/** Name of the header carrying the signature, lower case as `Headers` hands names out. */
export const IDENTITY_SIGNATURE_HEADER = 'x-auth-signature';

/** Default for `maxAgeSeconds`: long enough for a slow hop or a retry, short enough to bound a replay. */
const DEFAULT_MAX_AGE_SECONDS = 300;

/** Gateway and origin clocks drift; a `t` further ahead than this was not made by a gateway with a sane clock. */
const MAX_FUTURE_SECONDS = 60;

const UTF8 = new TextEncoder();

/** RFC 9110 §5.6.2 `token`, lower case only: a name has one spelling, the one `Headers` gives back. */
const NAME = "[!#$%&'*+.^_`|~0-9a-z-]+";

/**
 * The whole header value, strictly. `t` is decimal with no sign or leading zero and `v1` is the 43
 * characters of 32 bytes whose last has its 2 unused bits zero (RFC 4648 §3.5), so each value has
 * exactly one spelling. `=` is not a token character, so `h` cannot run on into `,v1=`.
 */
const SIGNATURE_VALUE = new RegExp(
  `^t=(0|[1-9][0-9]*),h=((?:${NAME}(?:,${NAME})*)?),v1=([A-Za-z0-9_-]{42}[AEIMQUYcgkosw048])$`,
);

/** What an origin learns from {@link verifyIdentitySignature}. */
export type IdentitySignatureResult =
  | {
      readonly valid: true;
      /** When the gateway signed, in Unix seconds. */
      readonly timestamp: number;
      /** The identity headers covered, in signed order: trust these and no other `X-Auth-*` header. */
      readonly headers: readonly string[];
    }
  | { readonly valid: false; readonly reason: 'missing' | 'malformed' | 'expired' | 'mismatch' };

interface ParsedSignature {
  readonly timestamp: number;
  readonly names: string[];
  readonly signature: string;
}

/**
 * The HMAC-SHA256 key for `secret` (its UTF-8 bytes). Not extractable, so code holding the key
 * can sign and verify but never read the secret back.
 */
export function importIdentityKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', UTF8.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

/**
 * The `X-Auth-Signature` value for a request about to be forwarded. It runs on every request, so it
 * checks nothing: `timestamp` is whole Unix seconds, `pathAndQuery` is `url.pathname + url.search`
 * of the URL the origin will receive, and `headers` are the identity headers in the order to sign,
 * names already lower case, values exactly as set on the forwarded request.
 */
export async function signIdentity(
  key: CryptoKey,
  input: {
    readonly timestamp: number;
    readonly method: string;
    readonly pathAndQuery: string;
    readonly headers: readonly (readonly [name: string, value: string])[];
  },
): Promise<string> {
  const text = signedText(input.timestamp, input.method, input.pathAndQuery, input.headers);
  const mac = await crypto.subtle.sign('HMAC', key, UTF8.encode(text));
  let names = '';
  for (const [name] of input.headers) names = names === '' ? name : `${names},${name}`;
  return `t=${input.timestamp},h=${names},v1=${bytesToBase64url(new Uint8Array(mac))}`;
}

/**
 * Checks the gateway's signature on a request an origin received, with only standard APIs, so it
 * runs on Workers and on Node 20+. A request carrying more than one signature header fails as
 * `malformed` (`Headers` joins them), and one whose signed header appears twice as `mismatch`.
 *
 * @param secret The secret shared with the gateway. The key is imported per call: an HMAC import
 *   is cheap next to a request, and it keeps the checker free of state an origin would have to manage.
 * @param options.maxAgeSeconds Oldest signature accepted, in seconds (default 300). A signature
 *   also fails as `expired` when it is more than 60 s in the future.
 * @param options.now The current time in epoch milliseconds (default `Date.now`).
 * @throws {TypeError} When `maxAgeSeconds` is not a finite, non-negative number.
 */
export async function verifyIdentitySignature(
  request: Request,
  secret: string,
  options?: { readonly maxAgeSeconds?: number; readonly now?: () => number },
): Promise<IdentitySignatureResult> {
  const maxAgeSeconds = options?.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  if (!(Number.isFinite(maxAgeSeconds) && maxAgeSeconds >= 0)) {
    throw new TypeError('maxAgeSeconds must be a finite, non-negative number of seconds');
  }
  const value = request.headers.get(IDENTITY_SIGNATURE_HEADER);
  if (value === null) return { valid: false, reason: 'missing' };
  const parsed = parseSignatureValue(value);
  if (parsed === undefined) return { valid: false, reason: 'malformed' };
  const age = Math.floor((options?.now ?? Date.now)() / 1000) - parsed.timestamp;
  if (age > maxAgeSeconds || age < -MAX_FUTURE_SECONDS) return { valid: false, reason: 'expired' };
  const signed: (readonly [string, string])[] = [];
  for (const name of parsed.names) {
    const headerValue = request.headers.get(name);
    if (headerValue === null) return { valid: false, reason: 'mismatch' };
    signed.push([name, headerValue]);
  }
  const url = new URL(request.url);
  const text = signedText(parsed.timestamp, request.method, url.pathname + url.search, signed);
  // crypto.subtle.verify compares in constant time; comparing base64 strings would leak how much matched.
  const mac = Uint8Array.from(base64urlToBinary(parsed.signature), (c) => c.charCodeAt(0));
  const valid = await crypto.subtle.verify('HMAC', await importIdentityKey(secret), mac, UTF8.encode(text));
  if (!valid) return { valid: false, reason: 'mismatch' };
  return { valid: true, timestamp: parsed.timestamp, headers: parsed.names };
}

/**
 * The lines the signature covers, built in this one place for signer and verifier alike. No line
 * can hold a `\n`: `Headers` refuses one in a value, URLs encode it, and methods and names are
 * tokens, so each input has one text.
 */
function signedText(
  timestamp: number,
  method: string,
  pathAndQuery: string,
  headers: Iterable<readonly [name: string, value: string]>,
): string {
  let text = `v1\n${timestamp}\n${method}\n${pathAndQuery}`;
  for (const [name, value] of headers) text += `\n${name}:${value}`;
  return text;
}

/**
 * The members of a header value, or `undefined` when it is not exactly `t`, `h`, `v1` as
 * specified. A `t` beyond 2^53 would not survive the round trip through a number, and a name
 * listed twice was never signed by us.
 */
function parseSignatureValue(value: string): ParsedSignature | undefined {
  const match = SIGNATURE_VALUE.exec(value);
  if (match === null) return undefined;
  const [, t = '', h = '', signature = ''] = match;
  const timestamp = Number(t);
  if (!Number.isSafeInteger(timestamp)) return undefined;
  const names = h === '' ? [] : h.split(',');
  if (new Set(names).size !== names.length) return undefined;
  return { timestamp, names, signature };
}
