/**
 * Workers A, B and C on bare `workerd serve`: the bundle `wrangler deploy --dry-run` produces
 * (esbuild for the two small comparison Workers), one capnp config each, loopback socket,
 * no inspector and no dev-server proxy in the way.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { freePort, waitUntilAnswering } from '../../scripts/loopback.ts';
import { BENCH_DIR, BIN, REPO_DIR, RESULTS_DIR } from '../paths.ts';
import { type Running, startProcess, stopProcess } from './process.ts';

const BUILD_DIR = `${RESULTS_DIR}/build`;

function compatibilityDate(): string {
  const match = /compatibility_date\s*=\s*"([^"]+)"/.exec(readFileSync(`${REPO_DIR}/wrangler.toml`, 'utf8'));
  if (!match) throw new Error('wrangler.toml has no compatibility_date');
  return match[1] as string;
}

function workerdBinary(): string {
  const direct = `${REPO_DIR}/node_modules/@cloudflare/workerd-linux-64/bin/workerd`;
  return existsSync(direct) ? direct : `${BIN}/workerd`;
}

/** Builds the three bundles once per run; returns the module file of each. */
export async function buildWorkers(): Promise<Record<'passthrough' | 'edge-verifier' | 'hono-jwk', string>> {
  await mkdir(BUILD_DIR, { recursive: true });
  const env = { ...process.env, WRANGLER_SEND_METRICS: 'false' };
  execFileSync(`${BIN}/wrangler`, ['deploy', '--dry-run', '--outdir', `${BUILD_DIR}/edge-verifier`], {
    cwd: REPO_DIR,
    env,
    stdio: 'ignore',
  });
  for (const name of ['passthrough', 'hono-jwk']) {
    execFileSync(
      `${BIN}/esbuild`,
      [
        `${BENCH_DIR}/workers/${name}.ts`,
        '--bundle',
        '--format=esm',
        '--platform=neutral',
        '--main-fields=module,main',
        '--conditions=workerd,worker,browser',
        `--outfile=${BUILD_DIR}/${name}/index.js`,
      ],
      { stdio: 'ignore' },
    );
  }
  return {
    passthrough: `${BUILD_DIR}/passthrough/index.js`,
    'edge-verifier': `${BUILD_DIR}/edge-verifier/index.js`,
    'hono-jwk': `${BUILD_DIR}/hono-jwk/index.js`,
  };
}

export async function startWorkerd(name: string, modulePath: string, vars: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const dir = modulePath.slice(0, modulePath.lastIndexOf('/'));
  const bindings = Object.entries(vars)
    .map(([key, value]) => `(name = ${JSON.stringify(key)}, text = ${JSON.stringify(value)})`)
    .join(', ');
  const config = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "loopback", network = (allow = ["local", "private", "public"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "index.js", esModule = embed "index.js")],
  compatibilityDate = "${compatibilityDate()}",
  bindings = [${bindings}],
  globalOutbound = "loopback",
);
`;
  const configPath = `${dir}/${name}.capnp`;
  await writeFile(configPath, config);
  const child = startProcess(workerdBinary(), ['serve', configPath, '--experimental']);
  const url = `http://127.0.0.1:${port}`;
  await waitUntilAnswering(url, 20_000);
  return { url, pid: child.pid as number, stop: () => stopProcess(child) };
}
