/**
 * System V: system A plus one `crypto.subtle.verify` of the bearer token's signature (RS256 or ES256, by ALG) per
 * request, and nothing else a verifier does (no header or claims parsing, no key lookup, no
 * checks on the request or the headers sent on). Run with unique tokens, it measures the crypto
 * floor under load, next to the formula floor that uses the idle micro-benchmark's verify time.
 */
import { createPassthrough } from './passthrough.ts';

type Bindings = { ORIGIN: string; ALG: 'RS256' | 'ES256'; JWK: string };

const PARAMS = {
  RS256: { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verify: { name: 'RSASSA-PKCS1-v1_5' } },
  ES256: { import: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } },
} as const;
const encoder = new TextEncoder();
const passthrough = createPassthrough();
let key: Promise<CryptoKey> | undefined;

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext): Promise<Response> {
    const params = PARAMS[env.ALG];
    key ??= crypto.subtle.importKey('jwk', JSON.parse(env.JWK), params.import, false, ['verify']);
    const token = (request.headers.get('authorization') ?? '').slice('Bearer '.length);
    const lastDot = token.lastIndexOf('.');
    const signature = Uint8Array.fromBase64(token.slice(lastDot + 1), { alphabet: 'base64url' });
    const signed = encoder.encode(token.slice(0, lastDot));
    if (!(await crypto.subtle.verify(params.verify, await key, signature, signed))) {
      return new Response('bad signature', { status: 401 });
    }
    return passthrough.fetch(request, env, ctx);
  },
};
