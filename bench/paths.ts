import { fileURLToPath } from 'node:url';

export const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url)).replace(/\/$/, '');
export const REPO_DIR = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
export const RESULTS_DIR = `${BENCH_DIR}/results`;
export const BIN = `${REPO_DIR}/node_modules/.bin`;
