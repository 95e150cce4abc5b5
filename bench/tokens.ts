/**
 * Keys and tokens for the benchmark, minted with jose. RS256 signing costs about 0.5 ms, so the
 * unique-token pool is minted once by two worker threads and kept under bench/results/ with its
 * keys; later runs reuse it while its tokens stay valid.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importPKCS8, SignJWT } from 'jose';
import { RESULTS_DIR } from './paths.ts';

export type Alg = 'RS256' | 'ES256';
export const ALGS: readonly Alg[] = ['RS256', 'ES256'];

export interface BenchKey {
  alg: Alg;
  kid: string;
  privatePkcs8: string;
  publicJwk: Record<string, unknown>;
  /** The same public key as PEM, for HAProxy, which cannot read a JWKS. */
  publicSpki: string;
}

export interface IssuerAudience {
  issuer: string;
  audience: string;
}

const KEYS_FILE = `${RESULTS_DIR}/keys.json`;
/** Tokens stay valid this long, so a pool minted today serves a week of runs. */
const TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600;
/** Signatures in flight per minting thread: jose's async WebCrypto calls overlap on libuv's pool. */
const MINT_CONCURRENCY = 64;

export async function loadOrCreateKeys(): Promise<Record<Alg, BenchKey>> {
  if (existsSync(KEYS_FILE)) {
    const stored = JSON.parse(await readFile(KEYS_FILE, 'utf8')) as Partial<Record<Alg, Partial<BenchKey>>>;
    if (ALGS.every((alg) => stored[alg]?.privatePkcs8 && stored[alg]?.publicSpki))
      return stored as Record<Alg, BenchKey>;
  }
  const keys = { RS256: await createKey('RS256'), ES256: await createKey('ES256') };
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(KEYS_FILE, JSON.stringify(keys));
  return keys;
}

async function createKey(alg: Alg): Promise<BenchKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `bench-${alg.toLowerCase()}`;
  return {
    alg,
    kid,
    privatePkcs8: await exportPKCS8(privateKey),
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
    publicSpki: await exportSPKI(publicKey),
  };
}

/** Signs tokens for one key; `jti` makes each one distinct. */
export async function createMinter(
  key: BenchKey,
  { issuer, audience }: IssuerAudience,
): Promise<(jti: string) => Promise<string>> {
  const privateKey = await importPKCS8(key.privatePkcs8, key.alg);
  return (jti) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: 'read' })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setSubject(`user-${jti}`)
      .setIssuedAt(now)
      .setExpirationTime(now + TOKEN_LIFETIME_SECONDS)
      .setJti(jti)
      .sign(privateKey);
  };
}

/** Mints tokens `from` ≤ i < `to`, newline-terminated, in order. */
export async function mintRange(key: BenchKey, target: IssuerAudience, from: number, to: number): Promise<string> {
  const mint = await createMinter(key, target);
  const lines: string[] = [];
  for (let start = from; start < to; start += MINT_CONCURRENCY) {
    const batch = [];
    for (let i = start; i < Math.min(to, start + MINT_CONCURRENCY); i++) batch.push(mint(String(i)));
    lines.push(...(await Promise.all(batch)));
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/**
 * A file of `count` distinct tokens, one per line, for the wrk script; reused while it was
 * minted for the same key, issuer and audience, holds enough tokens and they stay valid for
 * another hour.
 */
export async function tokenPool(key: BenchKey, target: IssuerAudience, count: number): Promise<string> {
  const file = `${RESULTS_DIR}/tokens-${key.alg}.txt`;
  const metaFile = `${file}.json`;
  if (existsSync(metaFile) && existsSync(file)) {
    const meta = JSON.parse(await readFile(metaFile, 'utf8'));
    const fresh = meta.mintedAt + (TOKEN_LIFETIME_SECONDS - 3600) * 1000 > Date.now();
    if (
      meta.kid === key.kid &&
      meta.issuer === target.issuer &&
      meta.audience === target.audience &&
      meta.count >= count &&
      fresh
    )
      return file;
  }
  const started = Date.now();
  const half = Math.ceil(count / 2);
  const parts = await Promise.all(
    [0, 1].map(
      (part) =>
        new Promise<string>((resolve, reject) => {
          const worker = new Worker(new URL('./mint-worker.ts', import.meta.url), {
            workerData: { key, target, from: part * half, to: Math.min(count, (part + 1) * half) },
          });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  // Written aside and renamed, so a reader never sees half a pool.
  await writeFile(`${file}.tmp`, parts.join(''));
  await rename(`${file}.tmp`, file);
  await writeFile(metaFile, JSON.stringify({ kid: key.kid, ...target, count, mintedAt: Date.now() }));
  console.log(`minted ${count} ${key.alg} tokens in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return file;
}

/**
 * Token files where each token is used 10 times in a row: `count / 10` opaque tokens, registered
 * with the dev issuer's introspection endpoint (answering the audience, a subject, a scope), and
 * as many RS256 JWTs from the pool, for the opaque-against-JWT comparison.
 */
export async function tenTimesPools(
  jwtPool: string,
  count: number,
  tenantUrl: string,
  audience: string,
): Promise<{ readonly opaque: string; readonly jwt: string }> {
  const distinct = Math.max(1, Math.floor(count / 10));
  const jwts = (await readFile(jwtPool, 'utf8')).split('\n', distinct);
  const opaque = Array.from({ length: distinct }, (_, i) => `bench-opaque-${i}-${randomUUID()}`);
  for (let start = 0; start < opaque.length; start += 5_000) {
    const tokens = opaque.slice(start, start + 5_000);
    const response = await fetch(`${tenantUrl}/introspectable`, {
      method: 'PUT',
      body: JSON.stringify({ tokens, members: { aud: audience, sub: 'bench-user', scope: 'read' } }),
    });
    if (response.status !== 204) throw new Error(`registering opaque tokens: ${response.status}`);
  }
  const repeat = (tokens: readonly string[]) => tokens.flatMap((token) => Array(10).fill(token)).join('\n');
  const files = { opaque: `${RESULTS_DIR}/tokens-opaque-x10.txt`, jwt: `${RESULTS_DIR}/tokens-RS256-x10.txt` };
  await writeFile(files.opaque, repeat(opaque));
  await writeFile(files.jwt, repeat(jwts));
  return files;
}
