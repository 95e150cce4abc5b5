/**
 * One benchmark at a time per machine: two runs on the same cores distort each other's
 * figures, and runs from one checkout share the token pool in bench/results/.
 */
import { openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { BENCH_DIR, RESULTS_DIR } from './paths.ts';

const LOCK_FILE = `${RESULTS_DIR}/run.lock`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readHolder(): number {
  try {
    return Number(readFileSync(LOCK_FILE, 'utf8'));
  } catch {
    return 0;
  }
}

/** Takes the lock, or returns the pid of the run that holds it. */
export function acquireRunLock(): { ok: true; release(): void } | { ok: false; holder: number } {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(LOCK_FILE, 'wx');
      writeSync(fd, String(process.pid));
      return { ok: true, release: () => rmSync(LOCK_FILE, { force: true }) };
    } catch {
      const holder = readHolder();
      if (holder && alive(holder)) return { ok: false, holder };
      // Left behind by a run that was killed.
      rmSync(LOCK_FILE, { force: true });
    }
  }
  return { ok: false, holder: readHolder() };
}

/** Other processes running a bench/run.ts (this checkout's or another's), lock or no lock. */
export function otherBenchmarks(): number[] {
  const ours = `${BENCH_DIR}/run.ts`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!pid || pid === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!/(^|\/)node$/.test(argv[0] ?? '')) continue;
      if (argv.slice(1).some((arg) => arg === ours || arg.endsWith('bench/run.ts'))) pids.push(pid);
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
