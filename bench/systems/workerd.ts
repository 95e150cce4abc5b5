/**
 * Workers A, B and C on bare `workerd serve`: each one the bundle `wrangler deploy --dry-run`
 * produces, one capnp config each, a loopback socket, and nothing in between (no inspector,
 * no dev-server proxy). Everything is written into the run's temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { freePort, waitUntilAnswering } from '../../scripts/loopback.ts';
import { BENCH_DIR, BIN, REPO_DIR, TOOL_PATH } from '../paths.ts';
import { type Running, startProcess, stopProcess } from './process.ts';

export type WorkerName = 'passthrough' | 'edge-verifier' | 'hono-jwk' | 'raw-verify';

export function compatibilityDate(): string {
  const match = /compatibility_date\s*=\s*"([^"]+)"/.exec(readFileSync(`${REPO_DIR}/wrangler.toml`, 'utf8'));
  if (!match) throw new Error('wrangler.toml has no compatibility_date');
  return match[1] as string;
}

export function workerdBinary(): string {
  const direct = `${REPO_DIR}/node_modules/@cloudflare/workerd-linux-64/bin/workerd`;
  return existsSync(direct) ? direct : `${BIN}/workerd`;
}

function wranglerBundle(outdir: string, cwd: string, configPath?: string): string {
  try {
    execFileSync(
      `${BIN}/wrangler`,
      ['deploy', '--dry-run', '--outdir', outdir, ...(configPath ? ['--config', configPath] : [])],
      { cwd, env: { ...process.env, PATH: TOOL_PATH, WRANGLER_SEND_METRICS: 'false' }, stdio: 'pipe' },
    );
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`wrangler deploy --dry-run failed in ${cwd}:\n${stdout ?? ''}${stderr ?? ''}`);
  }
  const module = readdirSync(outdir).find((file) => file.endsWith('.js'));
  if (!module) throw new Error(`wrangler wrote no .js bundle into ${outdir}`);
  return `${outdir}/${module}`;
}

/**
 * Bundles the Workers as `wrangler deploy` would: edge-verifier from the repo's own
 * wrangler.toml, the comparison Workers from a minimal config written into `workDir`.
 */
export async function buildWorkers(workDir: string): Promise<Record<WorkerName, string>> {
  const bundles = { 'edge-verifier': wranglerBundle(`${workDir}/edge-verifier`, REPO_DIR) } as Record<
    WorkerName,
    string
  >;
  for (const name of ['passthrough', 'hono-jwk', 'raw-verify'] as const) {
    const configPath = `${workDir}/${name}.wrangler.toml`;
    await writeFile(
      configPath,
      `name = "bench-${name}"\nmain = ${JSON.stringify(`${BENCH_DIR}/workers/${name}.ts`)}\ncompatibility_date = "${compatibilityDate()}"\n`,
    );
    bundles[name] = wranglerBundle(`${workDir}/${name}`, workDir, configPath);
  }
  return bundles;
}

/**
 * Serves one bundled module Worker. Variables are text bindings; JWKS_CACHE (KV) is left
 * unbound, so edge-verifier runs with its memory tier (and a Cache API without storage).
 * Outbound fetches may reach loopback addresses only.
 */
export async function startWorkerd(
  name: string,
  modulePath: string,
  vars: Record<string, string>,
  options: {
    /** Opens V8's inspector on this loopback port (bench/profile.ts); off for every measurement. */
    inspectorPort?: number;
    /** V8 flags for this process, e.g. `--expose-gc` for the memory pass. None by default. */
    v8Flags?: string[];
    /** A command workerd runs under, e.g. valgrind (bench/instructions.ts). None by default. */
    wrapper?: string[];
    /** How long to wait for the socket to answer. Default 20 s. */
    startTimeoutMs?: number;
  } = {},
): Promise<Running> {
  const { inspectorPort, v8Flags = [], wrapper = [], startTimeoutMs = 20_000 } = options;
  const port = await freePort();
  const slash = modulePath.lastIndexOf('/');
  const dir = modulePath.slice(0, slash);
  const bindings = Object.entries(vars)
    .map(([key, value]) => `(name = ${JSON.stringify(key)}, text = ${JSON.stringify(value)})`)
    .join(', ');
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["local"])),
  ],
  v8Flags = ${JSON.stringify(v8Flags)},
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "index.js", esModule = embed ${JSON.stringify(modulePath.slice(slash + 1))})],
  compatibilityDate = "${compatibilityDate()}",
  bindings = [${bindings}],
  globalOutbound = "loopback",
);
`;
  const configPath = `${dir}/${name}.capnp`;
  await writeFile(configPath, config);
  const inspector = inspectorPort ? [`--inspector-addr=127.0.0.1:${inspectorPort}`] : [];
  const command = [...wrapper, workerdBinary(), 'serve', configPath, '--experimental', ...inspector];
  const child = startProcess(command[0] as string, command.slice(1));
  const url = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(url, startTimeoutMs);
  return { url, pid: child.pid as number, stop: () => stopProcess(child) };
}
