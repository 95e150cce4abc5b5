/**
 * Micro-benchmark inside workerd. POST { op, n, tokens } runs `n` operations and answers when
 * done; the caller times the request from outside (workerd's clocks only move across I/O) and
 * subtracts an n = 0 baseline.
 *   raw-RS256 / raw-ES256: crypto.subtle.verify of one token's signature, n times;
 *   path: edge-verifier's whole authenticate() over the given tokens (unique or repeated);
 *   gc: a full garbage collection (memory pass only).
 */
import { createVerifier } from '../../src/auth/verifier.ts';
import { parseConfig } from '../../src/config.ts';

type Bindings = { ISSUER: string; AUDIENCE: string; JWKS_URI: string; RS256_JWK: string; ES256_JWK: string };

const ALGORITHMS = {
  RS256: { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verify: { name: 'RSASSA-PKCS1-v1_5' } },
  ES256: { import: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } },
} as const;

let verifier: ReturnType<typeof createVerifier> | undefined;

function decode(segment: string): Uint8Array {
  const binary = atob(segment.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export default {
  async fetch(request: Request, env: Bindings): Promise<Response> {
    if (request.method !== 'POST') return new Response('micro-benchmark: POST { op, n, tokens }');
    const { op, n, tokens } = (await request.json()) as { op: string; n: number; tokens: string[] };
    // The memory pass runs this workerd with --expose-gc, to read what is held rather than what awaits collection.
    if (op === 'gc') {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (!gc) throw new Error('gc needs workerd started with --expose-gc');
      gc();
      return Response.json({ ok: n });
    }
    if (op === 'raw-RS256' || op === 'raw-ES256') {
      const alg = op.slice(4) as keyof typeof ALGORITHMS;
      const jwk = JSON.parse(alg === 'RS256' ? env.RS256_JWK : env.ES256_JWK);
      const key = await crypto.subtle.importKey('jwk', jwk, ALGORITHMS[alg].import, false, ['verify']);
      const [h, p, s] = (tokens[0] as string).split('.') as [string, string, string];
      const data = new TextEncoder().encode(`${h}.${p}`);
      const signature = decode(s);
      let ok = 0;
      for (let i = 0; i < n; i++) if (await crypto.subtle.verify(ALGORITHMS[alg].verify, key, signature, data)) ok++;
      return Response.json({ ok });
    }
    verifier ??= createVerifier(parseConfig({ ISSUER: env.ISSUER, AUDIENCE: env.AUDIENCE, JWKS_URI: env.JWKS_URI }), {
      log: () => {},
    });
    const io = { kv: undefined, cache: undefined, waitUntil: () => {} };
    let ok = 0;
    for (let i = 0; i < n; i++) {
      const token = tokens[i % tokens.length] as string;
      const result = await verifier.authenticate(
        new Request('https://bench.invalid/resource', { headers: { authorization: `Bearer ${token}` } }),
        io,
      );
      if (result) ok++;
    }
    return Response.json({ ok });
  },
};
