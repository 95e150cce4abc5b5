/** Starting and stopping the server processes under test. */
import { type ChildProcess, spawn } from 'node:child_process';
import { TOOL_PATH } from '../paths.ts';

export interface Running {
  readonly url: string;
  /** The process whose CPU and memory are the system's cost. */
  readonly pid: number;
  stop(): Promise<void>;
}

/** Every child still running, so an interrupted run leaves no server behind. */
const live = new Set<ChildProcess>();

export function startProcess(command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: TOOL_PATH, ...env },
  });
  track(child);
  // Read what the child prints even when nobody listens: a Worker logs a line per request, and a
  // pipe nobody drains fills and blocks it (every request then hangs).
  child.stdout?.resume();
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    if (/error/i.test(text) && !/Request\.cf|getaddrinfo/.test(text)) process.stderr.write(`[${command}] ${text}`);
  });
  return child;
}

/** Registers a child that must not outlive the bench (servers, and wrk while it runs). */
export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

/**
 * On Ctrl-C or a kill of the bench itself, children would otherwise outlive it (they are
 * not always in the terminal's process group, e.g. under a CI runner).
 */
export function stopAllOnSignal(cleanup: () => Promise<void>): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping every server the bench started`);
      for (const child of live) child.kill('SIGKILL');
      void cleanup().finally(() => process.exit(130));
    });
  }
}

/** Reads the first JSON line a child prints (our Node servers announce their port that way). */
export function firstJsonLine(child: ChildProcess): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before announcing itself`)));
  });
}
