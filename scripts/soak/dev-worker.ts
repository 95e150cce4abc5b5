/**
 * This project's Worker under `wrangler dev` on loopback, as `npm start` runs it, with two
 * differences: it serves one bundle built at the start (the one `wrangler deploy` would upload),
 * so a source file saved mid-run cannot reload the Worker and cold its caches; and its local
 * state (KV, Cache API) lives in a fresh directory, removed afterwards.
 */
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitUntilAnswering } from '../loopback.ts';
import { commandLine, commandName, descendants, inGroup, peakRssBytes } from './process-tree.ts';

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;
/** Lines of wrangler's output kept for the report of a failed run. */
const OUTPUT_LINES_KEPT = 200;

export interface PeakRss {
  readonly pid: number;
  readonly bytes: number;
}

export interface DevWorker {
  readonly url: string;
  /** Peak RSS of the workerd that runs the Worker, and of the one in front of it (wrangler's dev proxy). */
  peakRss(): { worker?: PeakRss; proxy?: PeakRss };
  /** The last lines wrangler printed. */
  output(): string;
  /** Stops wrangler dev and every process it started, and removes its directory; safe to call twice. */
  stop(): Promise<void>;
  /** Kills them at once and removes the directory, for a process that is exiting. */
  kill(): void;
}

const wranglerEnv = { ...process.env, WRANGLER_SEND_METRICS: 'false' };

export async function startDevWorker(vars: Record<string, string>): Promise<DevWorker> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-verifier-soak-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  try {
    await promisify(execFile)('wrangler', ['deploy', '--dry-run', '--outdir', join(dir, 'bundle')], {
      env: wranglerEnv,
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`bundling the Worker failed: ${(error as Error).message}`);
  }

  const args = [
    'dev',
    '--no-bundle',
    join(dir, 'bundle', 'index.js'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(await freePort()),
    '--persist-to',
    join(dir, 'state'),
    '--show-interactive-dev-session=false',
    '--log-level',
    'error',
    ...Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
  ];
  // A process group of its own, so that stopping it reaches the workerd processes it starts.
  const child = spawn('wrangler', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: wranglerEnv });
  const group = child.pid as number;
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (text: string) => {
      lines.push(...text.split('\n').filter((line) => line.trim() !== ''));
      lines.splice(0, Math.max(0, lines.length - OUTPUT_LINES_KEPT));
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let members: number[] = [];
  let stopped: Promise<void> | undefined;

  const signal = (name: NodeJS.Signals): void => {
    if (child.exitCode === null && child.signalCode === null) {
      members = [...new Set([...members, ...descendants(group)])];
      try {
        process.kill(-group, name);
      } catch {
        // The group is gone already.
      }
      return;
    }
    // The leader is gone: what it started may outlive it, so each one we saw, by its pid, if still ours.
    for (const pid of members) {
      try {
        if (inGroup(pid, group)) process.kill(pid, name);
      } catch {
        // It exited in between.
      }
    }
  };

  const worker: DevWorker = {
    url,
    peakRss() {
      const result: { worker?: PeakRss; proxy?: PeakRss } = {};
      for (const pid of descendants(group)) {
        if (commandName(pid) !== 'workerd') continue;
        const bytes = peakRssBytes(pid);
        // The dev proxy is the one listening on the port the soak talks to.
        if (bytes !== undefined)
          result[commandLine(pid).includes(`=127.0.0.1:${port} `) ? 'proxy' : 'worker'] = { pid, bytes };
      }
      return result;
    },
    output: () => lines.join('\n'),
    stop() {
      stopped ??= (async () => {
        signal('SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
        signal('SIGKILL');
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
    kill() {
      signal('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };

  const gone = exited.then(() => {
    throw new Error(`wrangler dev exited before answering:\n${lines.join('\n')}`);
  });
  gone.catch(() => {});
  try {
    await Promise.race([waitUntilAnswering(url, READY_TIMEOUT_MS), gone]);
  } catch (error) {
    await worker.stop();
    throw error;
  }
  return worker;
}
