/**
 * System F: HAProxy's native `jwt_verify` converter. HAProxy cannot fetch a JWKS, so it gets
 * each public key as a PEM file and picks the file by the token's `alg`; its ceiling F0 is the
 * same configuration without the checks.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { freePort, waitUntilAnswering } from '../../scripts/loopback.ts';
import type { Alg } from '../tokens.ts';
import { type Running, startProcess, stopProcess } from './process.ts';

export interface HaproxyOptions {
  readonly withJwt: boolean;
  readonly origin: string;
  readonly pemFiles: Readonly<Record<Alg, string>>;
  readonly issuer: string;
  readonly audience: string;
  /** Where the generated configuration is written. */
  readonly workDir: string;
}

export function haproxyAvailable(): boolean {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The same claims the other verifiers check: alg allowlist, signature, iss, aud, exp. */
function jwtRules({ pemFiles, issuer, audience }: HaproxyOptions): string {
  const algs = Object.keys(pemFiles) as Alg[];
  return [
    'http-request set-var(txn.bearer) http_auth_bearer',
    'http-request set-var(txn.now) date',
    "http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')",
    `http-request deny deny_status 401 unless ${algs.map((alg) => `{ var(txn.alg) -m str ${alg} }`).join(' || ')}`,
    ...algs.map(
      (alg) =>
        `http-request deny deny_status 401 if { var(txn.alg) -m str ${alg} } !{ var(txn.bearer),jwt_verify(txn.alg,"${pemFiles[alg]}") -m int 1 }`,
    ),
    `http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('$.iss') -m str ${issuer} }`,
    `http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('$.aud') -m str ${audience} }`,
    "http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('$.exp','int'),sub(txn.now) -m int gt 0 }",
  ]
    .map((line) => `  ${line}\n`)
    .join('');
}

export async function startHaproxy(options: HaproxyOptions): Promise<Running> {
  const port = await freePort();
  const origin = new URL(options.origin);
  // One thread, like the single-threaded Node peers.
  const config = `global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend bench
  bind 127.0.0.1:${port}
${options.withJwt ? jwtRules(options) : ''}  default_backend origin
backend origin
  http-reuse always
  server origin ${origin.hostname}:${origin.port}
`;
  const path = `${options.workDir}/haproxy-${options.withJwt ? 'jwt' : 'plain'}.cfg`;
  await writeFile(path, config);
  const child = startProcess('haproxy', ['-f', path, '-db']);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(url, 20_000);
  return { url, pid: child.pid as number, stop: () => stopProcess(child) };
}
