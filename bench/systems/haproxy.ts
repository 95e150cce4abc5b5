/**
 * System F: HAProxy's native `jwt_verify` converter. HAProxy cannot fetch a JWKS, so it gets
 * the public key as a PEM file; its ceiling is the same configuration without the check.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { freePort, waitUntilAnswering } from '../../scripts/loopback.ts';
import { RESULTS_DIR } from '../paths.ts';
import { type Running, startProcess, stopProcess } from './process.ts';

export function haproxyAvailable(): boolean {
  try {
    execFileSync('haproxy', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function startHaproxy(
  withJwt: boolean,
  originUrl: string,
  alg: string,
  pemPath: string,
  issuer: string,
  audience: string,
): Promise<Running> {
  const port = await freePort();
  const origin = new URL(originUrl);
  const checks = withJwt
    ? `
  http-request set-var(txn.bearer) http_auth_bearer
  http-request set-var(txn.now) date
  http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')
  http-request deny deny_status 401 unless { var(txn.alg) -m str ${alg} }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('$.iss') -m str ${issuer} }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('$.aud') -m str ${audience} }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_payload_query('$.exp','int'),sub(txn.now) -m int gt 0 }
  http-request deny deny_status 401 unless { var(txn.bearer),jwt_verify(txn.alg,"${pemPath}") -m int 1 }`
    : '';
  const config = `global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend bench
  bind 127.0.0.1:${port}${checks}
  default_backend origin
backend origin
  http-reuse always
  server origin ${origin.hostname}:${origin.port}
`;
  const path = `${RESULTS_DIR}/haproxy-${withJwt ? 'jwt' : 'plain'}.cfg`;
  await writeFile(path, config);
  const child = startProcess('haproxy', ['-f', path, '-db']);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(url, 20_000);
  return { url, pid: child.pid as number, stop: () => stopProcess(child) };
}
