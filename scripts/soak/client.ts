/**
 * One request of the soak and what its answer must be: a valid one gets the origin's answer to
 * this very request (its id, its body's size and hash); a refused one gets its exact status and
 * problem `code`. What the origin saw is checked after the run (check.ts).
 */
import { createHash, randomFillSync } from 'node:crypto';
import type { Kind } from './mix.ts';
import { EXPECTED } from './mix.ts';
import { type OriginAnswer, REQUEST_ID_HEADER } from './origin.ts';
import type { Credentials } from './tokens.ts';

export interface Sent {
  readonly id: string;
  readonly kind: Kind;
  readonly method: 'GET' | 'POST';
  /** Path and query, as the origin must receive them. */
  readonly target: string;
  readonly bodyBytes: number;
  readonly bodySha256: string;
  readonly credentials: Credentials;
  /** Whether the client also sent identity headers of its own, which the Worker must replace. */
  readonly spoofed: boolean;
}

export interface Outcome {
  /** The HTTP status, or `undefined` when no answer came (network error, timeout). */
  readonly status: number | undefined;
  readonly latencyMs: number;
  /** What was wrong with the answer; empty when it was right. */
  readonly problems: readonly string[];
}

/** The hash of an empty body, which every GET carries. */
const EMPTY_SHA256 = createHash('sha256').digest('hex');

export function makeBody(bytes: number): { body: Uint8Array<ArrayBuffer> | undefined; sha256: string } {
  if (bytes === 0) return { body: undefined, sha256: EMPTY_SHA256 };
  const body = randomFillSync(new Uint8Array(bytes));
  return { body, sha256: createHash('sha256').update(body).digest('hex') };
}

export async function send(
  workerUrl: string,
  sent: Sent,
  body: Uint8Array<ArrayBuffer> | undefined,
  timeoutSeconds: number,
): Promise<Outcome> {
  const headers = new Headers({ [REQUEST_ID_HEADER]: sent.id });
  for (const value of sent.credentials.authorization) headers.append('authorization', value);
  if (body) headers.set('content-type', 'application/octet-stream');
  if (sent.spoofed) {
    headers.set('x-auth-subject', 'spoofed-by-client');
    headers.set('x-auth-claims', 'spoofed-by-client');
  }
  const url = new URL(sent.target, workerUrl);
  if (sent.credentials.queryToken) url.searchParams.append('access_token', sent.credentials.queryToken);
  const started = performance.now();
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      method: sent.method,
      headers,
      ...(body ? { body } : {}),
      signal: AbortSignal.timeout(timeoutSeconds * 1000),
    });
    text = await response.text();
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    return {
      status: undefined,
      latencyMs: performance.now() - started,
      problems: [`network error: ${(error as Error).message}${cause ? ` (${cause.message})` : ''}`],
    };
  }
  const latencyMs = performance.now() - started;
  return { status: response.status, latencyMs, problems: judge(sent, response, text) };
}

function judge(sent: Sent, response: Response, text: string): string[] {
  const expected = EXPECTED[sent.kind];
  if (response.status !== expected.status)
    return [`status ${response.status}, expected ${expected.status} (${text.slice(0, 200).replaceAll('\n', ' ')})`];
  const parsed = parseJson(text);
  if (expected.code === undefined) {
    const answer = parsed as Partial<OriginAnswer> | undefined;
    const problems: string[] = [];
    if (answer?.id !== sent.id) problems.push(`answer names request ${String(answer?.id)}`);
    if (answer?.bodyBytes !== sent.bodyBytes || answer?.bodySha256 !== sent.bodySha256)
      problems.push(`answer names a body of ${String(answer?.bodyBytes)} bytes, sha256 ${String(answer?.bodySha256)}`);
    return problems;
  }
  const problems: string[] = [];
  const type = response.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json')) problems.push(`content-type "${type}"`);
  const code = (parsed as { code?: unknown } | undefined)?.code;
  if (code !== expected.code) problems.push(`code ${String(code)}, expected ${expected.code}`);
  return problems;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
