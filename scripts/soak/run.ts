/**
 * `npm run soak`: a bounded soak of the Worker under `wrangler dev`, on loopback only. It starts
 * the dev issuer, a recording origin and the Worker; sends SOAK_REQUESTS requests (20,000, or
 * 2,000 with `--short`) from 64 concurrent clients, of every kind, with a key rotation in the
 * middle; then checks every answer and everything the origin received, prints a summary, stops
 * what it started and exits 0 only when nothing was wrong. It stops by itself: after the last
 * request, or with exit 2 at the time limit (SOAK_TIME_LIMIT_SECONDS).
 */
import { randomUUID } from 'node:crypto';
import { startDevIssuer } from '../dev-issuer.ts';
import { checkOrigin, type Problems } from './check.ts';
import { makeBody, type Sent, send } from './client.ts';
import { type DevWorker, startDevWorker } from './dev-worker.ts';
import { AUDIENCE, makeKey, publishJwks } from './keys.ts';
import { createBodyPlan, type Kind, kindWeights } from './mix.ts';
import { type RecordingOrigin, startRecordingOrigin } from './origin.ts';
import { random } from './random.ts';
import { describe, mismatchList, summary } from './report.ts';
import { createRotation, type Phase } from './rotation.ts';
import { SETTINGS } from './settings.ts';
import { type Credentials, createTokenSource, type KidUse, type TokenSource } from './tokens.ts';

/** Share of requests that also carry client-made X-Auth-Subject and X-Auth-Claims headers. */
const SPOOF_SHARE = 0.1;

const startedAt = performance.now();
let issuer: Awaited<ReturnType<typeof startDevIssuer>> | undefined;
let origin: RecordingOrigin | undefined;
let worker: DevWorker | undefined;
let stopping = false;
/** Requests answered so far, for the message of an aborted run. */
let answered = 0;

async function stopAll(): Promise<void> {
  await Promise.allSettled([worker?.stop(), origin?.close(), issuer?.close()]);
}

async function abort(code: number, message: string): Promise<never> {
  if (!stopping) {
    stopping = true;
    console.error(
      `${message} (${answered.toLocaleString('en-US')} of ${SETTINGS.requests.toLocaleString('en-US')} requests answered)`,
    );
    if (worker) console.error(`wrangler dev's last lines:\n${worker.output() || '(none)'}`);
    await stopAll();
  }
  process.exit(code);
}

process.on('exit', () => worker?.kill());
for (const event of ['uncaughtException', 'unhandledRejection'] as const)
  process.on(event, (error) => void abort(1, `soak failed: ${(error as Error).stack ?? String(error)}`));
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.once(signal, () => void abort(130, `\n${signal}: stopping the soak`));
const timeLimit = setTimeout(
  () => void abort(2, `soak: time limit of ${SETTINGS.timeLimitSeconds} s reached, aborting`),
  SETTINGS.timeLimitSeconds * 1000,
);

try {
  process.exitCode = await soak();
} catch (error) {
  await abort(1, `soak failed: ${(error as Error).stack ?? String(error)}`);
}
clearTimeout(timeLimit);
stopping = true;
await stopAll();

async function soak(): Promise<number> {
  const run = randomUUID().slice(0, 8);
  const tenant = `soak-${run}`;
  issuer = await startDevIssuer(0);
  const issuerUrl = `${issuer.url}/t/${tenant}`;
  const jwksUri = `${issuerUrl}/jwks`;
  origin = await startRecordingOrigin();

  const [oldKey, nextKey, foreign] = await Promise.all([
    makeKey(`${tenant}-1`),
    makeKey(`${tenant}-2`),
    makeKey('never-published'),
  ]);
  await publishJwks(jwksUri, [oldKey]);
  const tokens = await createTokenSource(issuerUrl, foreign);
  await tokens.addKey('old', oldKey);
  const stats = async (): Promise<{ jwksFetches: number; discoveryFetches: number }> =>
    (await fetch(`${issuerUrl}/stats`)).json() as Promise<{ jwksFetches: number; discoveryFetches: number }>;

  worker = await startDevWorker({
    ISSUER: issuerUrl,
    AUDIENCE,
    JWKS_URI: jwksUri,
    ORIGIN: origin.url,
    JWKS_REFRESH_COOLDOWN_SECONDS: String(SETTINGS.refreshCooldownSeconds),
    JWKS_CACHE_TTL_SECONDS: String(SETTINGS.cacheTtlSeconds),
    // One line per refusal is 30 % of the requests through wrangler's console; failures only.
    LOG_LEVEL: 'error',
  });
  const workerUrl = worker.url;
  console.log(
    `soak: ${SETTINGS.requests.toLocaleString('en-US')} requests, ${SETTINGS.concurrency} clients, Worker at ${workerUrl}`,
  );

  const { requests } = SETTINGS;
  const rotation = createRotation(requests, {
    cooldownSeconds: SETTINGS.refreshCooldownSeconds,
    publish: (withOld) => publishJwks(jwksUri, withOld ? [oldKey, nextKey] : [nextKey]),
    jwksFetches: async () => (await stats()).jwksFetches,
    nextKeyReady: () => tokens.addKey('next', nextKey),
  });
  const bodies = createBodyPlan(requests, SETTINGS.bodyBudgetBytes);
  const sent: Sent[] = [];
  const problems: Problems = new Map();
  const latency = { all: [] as number[], valid: [] as number[], refused: [] as number[] };
  const byStatus = new Map<string, number>();
  const validByKey = { old: 0, next: 0, fresh: 0 };
  let slowest: { ms: number; what: string } | undefined;
  const bump = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);

  async function one(index: number): Promise<void> {
    const phase = rotation.phase();
    const kind = random.weighted(kindWeights(phase === 'next'));
    const key = keyFor(kind, phase);
    const kid: KidUse = key ?? 'other';
    // Counted before anything is awaited, so the old key is never withdrawn under a request about to use it.
    rotation.started(kid);
    try {
      const credentials = await credentialsFor(tokens, kind, key);
      const { method, bodyBytes } = bodies.next(index, kind !== 'valid', random);
      const { body, sha256 } = makeBody(bodyBytes);
      const request: Sent = {
        id: `${run}-${index}`,
        kind,
        method,
        target: `/soak/items/${index}?n=${index}`,
        bodyBytes,
        bodySha256: sha256,
        credentials,
        spoofed: random.next() < SPOOF_SHARE,
      };
      sent.push(request);
      if (kind === 'valid') {
        validByKey[key === 'old' ? 'old' : 'next']++;
        if (credentials.fresh) validByKey.fresh++;
      }
      const outcome = await send(workerUrl, request, body, SETTINGS.requestTimeoutSeconds);
      answered++;
      bump(byStatus, String(outcome.status ?? 'no answer'));
      latency.all.push(outcome.latencyMs);
      latency[kind === 'valid' ? 'valid' : 'refused'].push(outcome.latencyMs);
      if (outcome.latencyMs > (slowest?.ms ?? 0)) slowest = { ms: outcome.latencyMs, what: describe(request) };
      if (outcome.problems.length > 0) problems.set(request.id, [...outcome.problems]);
    } finally {
      rotation.finished(kid);
    }
  }

  let next = 0;
  const loadStartedAt = performance.now();
  await Promise.all(
    Array.from({ length: SETTINGS.concurrency }, async () => {
      for (let index = next++; index < requests; index = next++) {
        await rotation.admit(index);
        await one(index);
      }
    }),
  );
  const loadSeconds = (performance.now() - loadStartedAt) / 1000;
  const failure = rotation.failure();
  if (failure) throw failure;
  if (rotation.phase() !== 'next') throw new Error(`the rotation did not finish (phase ${rotation.phase()})`);

  const peakRss = worker.peakRss();
  const { jwksFetches, discoveryFetches } = await stats();
  checkOrigin(sent, { records: origin.records, cutShort: origin.cutShort, strays: origin.strays() }, problems);

  const byKind = new Map<Kind, number>();
  const wrongByKind = new Map<Kind, number>();
  const kindOf = new Map(sent.map((request) => [request.id, request.kind]));
  for (const request of sent) bump(byKind, request.kind);
  for (const id of problems.keys()) {
    const kind = kindOf.get(id);
    if (kind) bump(wrongByKind, kind);
  }
  console.log(
    summary({
      requests,
      concurrency: SETTINGS.concurrency,
      byKind,
      wrongByKind,
      validByKey,
      byMethod: sent.reduce((map, request) => bump(map, request.method), new Map<string, number>()),
      byStatus,
      spoofed: sent.filter((request) => request.spoofed).length,
      bodyBytes: bodies.sentBytes(),
      largestBodyBytes: bodies.largestBytes(),
      marks: rotation.marks,
      jwksFetches,
      discoveryFetches,
      latencyMs: {
        all: Float64Array.from(latency.all),
        valid: Float64Array.from(latency.valid),
        refused: Float64Array.from(latency.refused),
      },
      slowest,
      peakRss,
      seconds: { total: (performance.now() - startedAt) / 1000, load: loadSeconds },
      mismatches: problems.size,
    }),
  );
  if (problems.size === 0) return 0;
  console.log(mismatchList(problems, sent));
  return 1;
}

/** Which key a token of this kind is signed with (or names) in this phase; `undefined` for tokens of no published key. */
function keyFor(kind: Kind, phase: Phase): 'old' | 'next' | undefined {
  if (kind !== 'valid' && kind !== 'expired' && kind !== 'forged') return undefined;
  if (phase === 'old') return 'old';
  // Both keys verify while both are published; only valid tokens keep using the old one.
  if (phase === 'both' && kind === 'valid') return random.next() < 0.5 ? 'old' : 'next';
  return 'next';
}

async function credentialsFor(tokens: TokenSource, kind: Kind, key: 'old' | 'next' | undefined): Promise<Credentials> {
  switch (kind) {
    case 'valid':
      return tokens.valid(key ?? 'next', random);
    case 'expired':
      return tokens.expired(key ?? 'next', random);
    case 'forged':
      return tokens.forged(key ?? 'next', random);
    case 'unknown_kid':
      return tokens.unknownKid(random);
    case 'retired':
      return tokens.retired(random);
    case 'malformed_token':
      return tokens.malformedToken(random);
    case 'malformed_authorization':
      return tokens.malformedAuthorization(random);
  }
}
