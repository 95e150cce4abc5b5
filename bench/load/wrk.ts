/** Drives one measurement with wrk (Debian's package) and parses the line our Lua script prints. */
import { execFile } from 'node:child_process';
import { BENCH_DIR } from '../paths.ts';
import { SETTINGS } from '../settings.ts';
import { track } from '../systems/process.ts';

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses other than 2xx/3xx: a verifier refusing a valid token shows up here. */
  non2xx: number;
  socketErrors: number;
  /** Times a thread ran out of unique tokens and started over (0 means none was reused). */
  tokenWraps: number;
}

export type TokenSource =
  | { kind: 'repeated'; token: string }
  | { kind: 'unique'; file: string }
  /** Each request's token drawn from the file's first `n` tokens, the k-th with weight 1/k^s. */
  | { kind: 'zipf'; file: string; n: number; s: number };

export function runWrk(url: string, seconds: number, tokens: TokenSource): Promise<LoadResult> {
  const env: Record<string, string> = { ...process.env, THREADS: String(SETTINGS.threads) } as Record<string, string>;
  if (tokens.kind === 'repeated') env.TOKEN = tokens.token;
  if (tokens.kind === 'unique' || tokens.kind === 'zipf') env.TOKENS_FILE = tokens.file;
  if (tokens.kind === 'zipf') {
    env.ZIPF_N = String(tokens.n);
    env.ZIPF_S = String(tokens.s);
  }
  const args = [
    `-t${SETTINGS.threads}`,
    `-c${SETTINGS.connections}`,
    `-d${seconds}s`,
    // Percentiles come from the Lua done() hook, which reads the same histogram --latency prints.
    '--latency',
    '--timeout',
    '5s',
    '-s',
    `${BENCH_DIR}/load/tokens.lua`,
    `${url}/resource`,
  ];
  return new Promise((resolve, reject) => {
    const child = execFile('wrk', args, { env, maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) return reject(error);
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      if (!line) return reject(new Error(`wrk printed no result:\n${stdout}`));
      const [requests, durationUs, p50Us, p99Us, non2xx, socketErrors, wraps] = line
        .split(' ')
        .slice(1)
        .map(Number) as number[];
      const secondsRun = (durationUs as number) / 1e6;
      resolve({
        requests: requests as number,
        seconds: secondsRun,
        rps: (requests as number) / secondsRun,
        p50Ms: (p50Us as number) / 1000,
        p99Ms: (p99Us as number) / 1000,
        non2xx: non2xx as number,
        socketErrors: socketErrors as number,
        tokenWraps: wraps as number,
      });
    });
    track(child);
  });
}
