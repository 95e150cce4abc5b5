/** Systems D and E (and their ceiling) as Node processes running bench/peers/express-proxy.ts. */
import { BENCH_DIR, BIN } from '../paths.ts';
import { firstJsonLine, type Running, startProcess, stopProcess } from './process.ts';

export type Peer = 'none' | 'express-oauth-jwt' | 'jwks-rsa';

export async function startNodePeer(peer: Peer, env: Record<string, string>): Promise<Running> {
  const child = startProcess(`${BIN}/node`, [`${BENCH_DIR}/peers/express-proxy.ts`], { ...env, PEER: peer });
  const { port } = await firstJsonLine(child);
  return { url: `http://127.0.0.1:${port}`, pid: child.pid as number, stop: () => stopProcess(child) };
}
