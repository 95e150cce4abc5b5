/** Mints a slice of the token pool off the main thread (RS256 signing is the slow part). */
import { parentPort, workerData } from 'node:worker_threads';
import { mintToken } from './tokens.ts';

const { key, issuer, audience, from, to } = workerData;
const lines: string[] = [];
for (let i = from; i < to; i++) lines.push(mintToken(key, issuer, audience, String(i)));
parentPort?.postMessage(lines.length ? `${lines.join('\n')}\n` : '');
