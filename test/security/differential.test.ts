import fc from 'fast-check';
import { compactVerify, errors, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_ALGORITHMS } from '../../src/constants.ts';
import { VerifierError } from '../../src/errors.ts';
import { createKeyIndex } from '../../src/keys/remote/key-index.ts';
import { parseTokenShape } from '../../src/token/token-shape.ts';
import { verifySignature } from '../../src/token/verify-signature.ts';
import { b64url, fromB64url } from './harness.ts';

/**
 * Our signature check against jose's `compactVerify`, the oracle: for every token, both get the
 * same keys and the same allowlist, after the same shape check, and must agree on accept or
 * refuse (and on alg_not_allowed, which must come before any key lookup). Tokens: valid ones for
 * every algorithm, header variants signed as they are, and fast-check mutations of the valid ones.
 */

const SEED = 20_261_201;
const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
type Alg = (typeof ALGS)[number];
const VALID_PER_ALG = 110;
const MUTATIONS_PER_TOKEN = 9;

interface Signer {
  readonly alg: Alg;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

type Outcome = 'accept' | 'alg_not_allowed' | 'refuse';

interface Case {
  readonly token: string;
  /** The JWKS the key index is built from (as the resolver would), or keys handed over as they are. */
  readonly keys: { readonly jwks: readonly JWK[] } | { readonly direct: readonly CryptoKey[] };
  readonly algorithms: readonly string[];
}

const SIGN_PARAMS: Record<Alg, SubtleCryptoSignAlgorithm> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5' },
  RS384: { name: 'RSASSA-PKCS1-v1_5' },
  RS512: { name: 'RSASSA-PKCS1-v1_5' },
  PS256: { name: 'RSA-PSS', saltLength: 32 },
  PS384: { name: 'RSA-PSS', saltLength: 48 },
  PS512: { name: 'RSA-PSS', saltLength: 64 },
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  ES384: { name: 'ECDSA', hash: 'SHA-384' },
  ES512: { name: 'ECDSA', hash: 'SHA-512' },
  EdDSA: { name: 'Ed25519' },
};

async function makeSigner(alg: Alg, kid = `${alg}-${crypto.randomUUID().slice(0, 6)}`): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid } };
}

async function sign(signer: Signer, signingInput: string, params = SIGN_PARAMS[signer.alg]): Promise<string> {
  return b64url(
    new Uint8Array(await crypto.subtle.sign(params, signer.privateKey, new TextEncoder().encode(signingInput))),
  );
}

async function signedToken(signer: Signer, header: Record<string, unknown>, claims: Record<string, unknown>) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${await sign(signer, input)}`;
}

function errorOutcome(error: unknown): Outcome {
  if (error instanceof VerifierError && error.code === 'alg_not_allowed') return 'alg_not_allowed';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'alg_not_allowed';
  return 'refuse';
}

/** The keys for a header, as the resolver finds them: our key index over the JWKS. */
async function keysFor(keys: Case['keys'], header: Record<string, unknown>): Promise<readonly CryptoKey[]> {
  if ('direct' in keys) return keys.direct;
  return (await createKeyIndex(keys.jwks).find(header)) ?? [];
}

async function ours({ token, keys, algorithms }: Case): Promise<Outcome | 'shape'> {
  let shape: ReturnType<typeof parseTokenShape>;
  try {
    shape = parseTokenShape(token);
  } catch {
    return 'shape';
  }
  try {
    await verifySignature(token, shape, algorithms, (header) => keysFor(keys, header));
    return 'accept';
  } catch (error) {
    return errorOutcome(error);
  }
}

/** jose's compactVerify with each candidate key in turn: accepted when one verifies. */
async function oracle({ token, keys, algorithms }: Case): Promise<Outcome | 'shape'> {
  let header: Record<string, unknown>;
  try {
    header = parseTokenShape(token).header;
  } catch {
    return 'shape';
  }
  const candidates = await keysFor(keys, header);
  let last: unknown = new Error('no key');
  // With no key, jose still checks the header and the allowlist first (it is given a key it never reaches).
  for (const key of candidates.length > 0 ? candidates : [undefined]) {
    try {
      await compactVerify(token, key ?? new Uint8Array(32), { algorithms: [...algorithms] });
      if (key === undefined) return 'refuse';
      return 'accept';
    } catch (error) {
      last = error;
      if (errorOutcome(error) === 'alg_not_allowed') return 'alg_not_allowed';
    }
  }
  return errorOutcome(last);
}

/** DER `SEQUENCE { INTEGER r, INTEGER s }` of a raw r‖s: a re-encoding JWS forbids (RFC 7518 §3.4). */
function der(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  const integer = (bytes: Uint8Array) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = [...bytes.slice(start)];
    const padded = (trimmed[0] as number) & 0x80 ? [0, ...trimmed] : trimmed;
    return [0x02, padded.length, ...padded];
  };
  const body = [...integer(raw.slice(0, half)), ...integer(raw.slice(half))];
  return new Uint8Array(body.length < 128 ? [0x30, body.length, ...body] : [0x30, 0x81, body.length, ...body]);
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip-signature' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('flip-header' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('flip-payload' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('change-claim' as const), sub: fc.string({ maxLength: 12 }) }),
  fc.record({ kind: fc.constant('swap-segments' as const), order: fc.constantFrom([1, 0, 2], [0, 2, 1], [2, 1, 0]) }),
  fc.record({ kind: fc.constant('resize-signature' as const), by: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ kind: fc.constant('der-signature' as const) }),
  fc.record({ kind: fc.constant('swap-alg' as const), alg: fc.constantFrom(...ALGS) }),
  fc.record({ kind: fc.constant('pss-salt' as const), salt: fc.constantFrom(0, 20, 31, 33, 48, 64) }),
  fc.record({ kind: fc.constant('other-key' as const) }),
  fc.record({ kind: fc.constant('wrong-key-type' as const) }),
  fc.record({ kind: fc.constant('drop-kid' as const) }),
  fc.record({
    kind: fc.constant('narrow-allowlist' as const),
    allowed: fc.subarray([...SUPPORTED_ALGORITHMS], { minLength: 1 }),
  }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function flip(bytes: Uint8Array, at: number, bit: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  if (copy.length > 0) copy[at % copy.length] = (copy[at % copy.length] as number) ^ (1 << bit);
  return copy;
}

describe('our signature check against jose compactVerify', () => {
  const signers = new Map<Alg, Signer[]>();
  /** For each alg, a key of the wrong type or curve, imported as if it fit. */
  const wrongKeys = new Map<Alg, CryptoKey>();

  beforeAll(async () => {
    for (const alg of ALGS) signers.set(alg, [await makeSigner(alg), await makeSigner(alg), await makeSigner(alg)]);
    const wrong: Record<Alg, Alg> = {
      RS256: 'ES256',
      RS384: 'ES384',
      RS512: 'EdDSA',
      PS256: 'ES256',
      PS384: 'EdDSA',
      PS512: 'ES512',
      ES256: 'ES384',
      ES384: 'ES512',
      ES512: 'ES256',
      EdDSA: 'ES256',
    };
    for (const alg of ALGS) {
      const other = (signers.get(wrong[alg]) as Signer[])[0] as Signer;
      wrongKeys.set(alg, (await importJWK(other.jwk, other.alg)) as CryptoKey);
    }
  }, 60_000);

  async function mutate(token: string, signer: Signer, m: Mutation): Promise<Case> {
    const [h, p, s] = token.split('.') as [string, string, string];
    const jwks = (signers.get(signer.alg) as Signer[]).map((x) => x.jwk);
    const base = { keys: { jwks }, algorithms: SUPPORTED_ALGORITHMS } as const;
    switch (m.kind) {
      case 'flip-signature':
        return { ...base, token: `${h}.${p}.${b64url(flip(fromB64url(s), m.at, m.bit))}` };
      case 'flip-header':
        return { ...base, token: `${b64url(flip(fromB64url(h), m.at, m.bit))}.${p}.${s}` };
      case 'flip-payload':
        return { ...base, token: `${h}.${b64url(flip(fromB64url(p), m.at, m.bit))}.${s}` };
      case 'change-claim': {
        const claims = JSON.parse(new TextDecoder().decode(fromB64url(p)));
        return { ...base, token: `${h}.${b64url(JSON.stringify({ ...claims, sub: m.sub }))}.${s}` };
      }
      case 'swap-segments': {
        const parts = [h, p, s];
        return { ...base, token: m.order.map((i) => parts[i]).join('.') };
      }
      case 'resize-signature': {
        const bytes = fromB64url(s);
        const resized =
          m.by < 0 ? bytes.slice(0, bytes.length + m.by) : new Uint8Array([...bytes, ...new Uint8Array(m.by)]);
        return { ...base, token: `${h}.${p}.${b64url(resized)}` };
      }
      case 'der-signature': {
        const bytes = fromB64url(s);
        return { ...base, token: `${h}.${p}.${b64url(signer.alg.startsWith('ES') ? der(bytes) : bytes.slice(1))}` };
      }
      case 'swap-alg': {
        const header = JSON.parse(new TextDecoder().decode(fromB64url(h)));
        return { ...base, token: `${b64url(JSON.stringify({ ...header, alg: m.alg }))}.${p}.${s}` };
      }
      case 'pss-salt': {
        if (!signer.alg.startsWith('PS')) return { ...base, token };
        const params = { name: 'RSA-PSS', saltLength: m.salt };
        return { ...base, token: `${h}.${p}.${await sign(signer, `${h}.${p}`, params)}` };
      }
      case 'other-key': {
        const impostor = (signers.get(signer.alg) as Signer[])[2] as Signer;
        // Signed by another key of the same alg, under the first key's kid.
        return { ...base, keys: { jwks: [signer.jwk] }, token: `${h}.${p}.${await sign(impostor, `${h}.${p}`)}` };
      }
      case 'wrong-key-type':
        return { ...base, keys: { direct: [wrongKeys.get(signer.alg) as CryptoKey] }, token };
      case 'drop-kid': {
        const header = JSON.parse(new TextDecoder().decode(fromB64url(h)));
        delete header.kid;
        const input = `${b64url(JSON.stringify(header))}.${p}`;
        return { ...base, token: `${input}.${await sign(signer, input)}` };
      }
      case 'narrow-allowlist':
        return { ...base, algorithms: m.allowed, token };
    }
  }

  it('agrees on every token: valid, header variants and ≥ 9,000 mutations, every algorithm', async () => {
    const cases: Case[] = [];
    const now = Math.floor(Date.now() / 1000);
    for (const alg of ALGS) {
      const [signer, second] = signers.get(alg) as [Signer, Signer, Signer];
      const jwks = (signers.get(alg) as Signer[]).map((x) => x.jwk);
      const variants: Record<string, unknown>[] = [
        { alg, kid: signer.kid, typ: 'at+jwt' },
        { alg, kid: signer.kid, crit: ['exp'], exp: now },
        { alg, kid: signer.kid, crit: ['b64'] },
        { alg, kid: signer.kid, crit: [] },
        { alg: '', kid: signer.kid },
        { alg: 42, kid: signer.kid },
        { alg: alg.toLowerCase(), kid: signer.kid },
        { alg, kid: signer.kid, jku: 'https://attacker.example/jwks', x5u: 'https://attacker.example/x5u' },
        { alg, kid: 42 },
        { alg, kid: second.kid },
      ];
      for (const header of variants) {
        cases.push({
          token: await signedToken(signer, header, { sub: 'v', iat: now }),
          keys: { jwks },
          algorithms: SUPPORTED_ALGORITHMS,
        });
      }
      for (let i = 0; i < VALID_PER_ALG; i++) {
        const token = await new SignJWT({ sub: `user-${i}`, n: i, scope: 'read' })
          .setProtectedHeader({ alg, kid: signer.kid })
          .setIssuedAt(now)
          .sign(signer.privateKey);
        cases.push({ token, keys: { jwks }, algorithms: SUPPORTED_ALGORITHMS });
        for (const m of fc.sample(mutation, {
          seed: SEED + i * 31 + ALGS.indexOf(alg),
          numRuns: MUTATIONS_PER_TOKEN,
        })) {
          cases.push(await mutate(token, signer, m));
        }
      }
    }

    const tally = { compared: 0, accepted: 0, refusedBoth: 0, shape: 0 };
    const disagreements: string[] = [];
    for (const c of cases) {
      const [mine, theirs] = await Promise.all([ours(c), oracle(c)]);
      if (mine === 'shape') {
        tally.shape++;
        continue;
      }
      tally.compared++;
      if (mine !== theirs) disagreements.push(`${mine} vs jose ${theirs}: ${c.token.slice(0, 120)}`);
      else if (mine === 'accept') tally.accepted++;
      else tally.refusedBoth++;
    }
    expect(disagreements).toEqual([]);
    expect(cases.length).toBeGreaterThanOrEqual(10_000);
    // Compared past the shape check (both run the same one first); refused by it, neither verifies.
    expect(tally.compared).toBeGreaterThanOrEqual(8_000);
    expect(tally.accepted).toBeGreaterThanOrEqual(1_000);
    expect(tally.refusedBoth).toBeGreaterThanOrEqual(3_000);
  }, 180_000);
});
