import { fileURLToPath } from 'node:url';

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url)).replace(/\/$/, '');
export const REPO_DIR = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
/** Kept between runs (git-ignored): keys, the token pool, latest.json. */
export const RESULTS_DIR = `${BENCH_DIR}/results`;
export const BIN = `${REPO_DIR}/node_modules/.bin`;
/**
 * PATH for every tool the bench starts. wrangler's `#!/usr/bin/env node` must find the
 * project's Node 22 even when the bench is run as `node_modules/.bin/node bench/run.ts`
 * from a shell whose `node` is older (npm scripts already put this first).
 */
export const TOOL_PATH = `${BIN}:${process.env.PATH ?? ''}`;
