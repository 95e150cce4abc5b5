/**
 * System V: system A plus one `crypto.subtle.verify` of the bearer token's RS256 signature per
 * request, and nothing else a verifier does (no header or claims parsing, no key lookup, no
 * checks on the request or the headers sent on). Run with unique tokens, it measures the crypto
 * floor under load, next to the formula floor that uses the idle micro-benchmark's verify time.
 */
import { createPassthrough } from './passthrough.ts';

type Bindings = { ORIGIN: string; RS256_JWK: string };

const RS256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const encoder = new TextEncoder();
const passthrough = createPassthrough();
let key: Promise<CryptoKey> | undefined;

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext): Promise<Response> {
    key ??= crypto.subtle.importKey('jwk', JSON.parse(env.RS256_JWK), RS256, false, ['verify']);
    const token = (request.headers.get('authorization') ?? '').slice('Bearer '.length);
    const lastDot = token.lastIndexOf('.');
    const signature = Uint8Array.fromBase64(token.slice(lastDot + 1), { alphabet: 'base64url' });
    const signed = encoder.encode(token.slice(0, lastDot));
    if (!(await crypto.subtle.verify(RS256, await key, signature, signed))) {
      return new Response('bad signature', { status: 401 });
    }
    return passthrough.fetch(request, env, ctx);
  },
};
