/** Mints a slice of the token pool off the main thread (RS256 signing is the slow part). */
import { parentPort, workerData } from 'node:worker_threads';
import { mintRange } from './tokens.ts';

const { key, target, from, to } = workerData;
parentPort?.postMessage(await mintRange(key, target, from, to));
