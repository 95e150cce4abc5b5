/**
 * Keys and tokens for the benchmark. RS256 signing costs ~0.5 ms in Node, so the pool is
 * minted once by two worker threads and kept under bench/results/ with its keys; a run reuses it
 * while the tokens are valid for the whole run.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { RESULTS_DIR } from './paths.ts';

export type Alg = 'RS256' | 'ES256';

export interface BenchKey {
  alg: Alg;
  kid: string;
  privatePem: string;
  publicJwk: Record<string, unknown>;
}

const KEYS_FILE = `${RESULTS_DIR}/keys.json`;
/** Tokens stay valid this long, so a pool minted today serves many runs. */
const TOKEN_LIFETIME_SECONDS = 7 * 24 * 3600;

export async function loadOrCreateKeys(): Promise<Record<Alg, BenchKey>> {
  if (existsSync(KEYS_FILE)) return JSON.parse(await readFile(KEYS_FILE, 'utf8'));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys: Record<Alg, BenchKey> = {
    RS256: describe('RS256', 'bench-rs256', rsa.privateKey),
    ES256: describe('ES256', 'bench-es256', ec.privateKey),
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(KEYS_FILE, JSON.stringify(keys));
  return keys;
}

function describe(alg: Alg, kid: string, privateKey: KeyObject): BenchKey {
  return {
    alg,
    kid,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicJwk: { ...createPublicKey(privateKey).export({ format: 'jwk' }), kid, alg, use: 'sig' },
  };
}

export function publicPem(key: BenchKey): string {
  return createPublicKey(createPrivateKey(key.privatePem)).export({ type: 'spki', format: 'pem' }) as string;
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export function mintToken(key: BenchKey, issuer: string, audience: string, jti: string): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: key.alg, kid: key.kid, typ: 'JWT' }));
  const payload = b64url(
    JSON.stringify({
      iss: issuer,
      aud: audience,
      sub: `user-${jti}`,
      scope: 'read',
      iat: now,
      exp: now + TOKEN_LIFETIME_SECONDS,
      jti,
    }),
  );
  const input = `${header}.${payload}`;
  const signature = sign(
    'sha256',
    Buffer.from(input),
    key.alg === 'ES256' ? { key: key.privatePem, dsaEncoding: 'ieee-p1363' } : key.privatePem,
  );
  return `${input}.${b64url(signature)}`;
}

/** A file of `count` distinct tokens, one per line, for the wrk script. Reused while the issuer URL matches. */
export async function tokenPool(key: BenchKey, issuer: string, audience: string, count: number): Promise<string> {
  const file = `${RESULTS_DIR}/tokens-${key.alg}.txt`;
  const metaFile = `${file}.json`;
  if (existsSync(metaFile)) {
    const meta = JSON.parse(await readFile(metaFile, 'utf8'));
    const fresh = meta.mintedAt + (TOKEN_LIFETIME_SECONDS - 3600) * 1000 > Date.now();
    if (meta.issuer === issuer && meta.count >= count && meta.kid === key.kid && fresh) return file;
  }
  const started = Date.now();
  const half = Math.ceil(count / 2);
  const parts = await Promise.all(
    [0, 1].map(
      (part) =>
        new Promise<string>((resolve, reject) => {
          const worker = new Worker(new URL('./mint-worker.ts', import.meta.url), {
            workerData: { key, issuer, audience, from: part * half, to: Math.min(count, (part + 1) * half) },
          });
          worker.once('message', resolve);
          worker.once('error', reject);
        }),
    ),
  );
  await writeFile(file, parts.join(''));
  await writeFile(metaFile, JSON.stringify({ issuer, count, kid: key.kid, mintedAt: Date.now() }));
  console.log(`minted ${count} ${key.alg} tokens in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return file;
}
