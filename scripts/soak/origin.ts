/**
 * The soak's origin: records what it received for each request id (`x-soak-id`) and answers
 * with that id and the body's hash, so the client can tell its own answer from another's and
 * the run can prove afterwards what reached the origin, how often, and with which identity.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const REQUEST_ID_HEADER = 'x-soak-id';

/** One request id, as the origin saw it. */
export interface OriginRecord {
  /** How many requests carried this id (1 unless something delivered it twice). */
  count: number;
  readonly method: string;
  /** Path and query, exactly as received. */
  readonly target: string;
  readonly bodyBytes: number;
  readonly bodySha256: string;
  readonly subject: string | undefined;
  readonly claims: string | undefined;
}

/** What the origin answers: the client checks it is the answer to its own request. */
export interface OriginAnswer {
  readonly id: string;
  readonly bodyBytes: number;
  readonly bodySha256: string;
}

export interface RecordingOrigin {
  readonly url: string;
  readonly records: ReadonlyMap<string, OriginRecord>;
  /** Request ids whose body stopped short: the connection closed before the body ended. */
  readonly cutShort: ReadonlySet<string>;
  /** Requests without a request id: nothing the soak sent should arrive like that. */
  readonly strays: () => number;
  close(): Promise<void>;
}

export async function startRecordingOrigin(): Promise<RecordingOrigin> {
  const records = new Map<string, OriginRecord>();
  const cutShort = new Set<string>();
  let strays = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      const id = req.headers[REQUEST_ID_HEADER];
      if (typeof id === 'string') cutShort.add(id);
      else strays++;
      res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const hash = createHash('sha256');
    let bodyBytes = 0;
    for await (const chunk of req) {
      bodyBytes += (chunk as Buffer).length;
      hash.update(chunk as Buffer);
    }
    const bodySha256 = hash.digest('hex');
    const id = req.headers[REQUEST_ID_HEADER];
    if (typeof id !== 'string') {
      strays++;
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"no request id"}');
      return;
    }
    const seen = records.get(id);
    if (seen) seen.count++;
    else
      records.set(id, {
        count: 1,
        method: req.method ?? '',
        target: req.url ?? '',
        bodyBytes,
        bodySha256,
        subject: single(req.headers['x-auth-subject']),
        claims: single(req.headers['x-auth-claims']),
      });
    const answer: OriginAnswer = { id, bodyBytes, bodySha256 };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  }

  // The Worker keeps connections to the origin open between requests; an origin that closes an
  // idle one first races the Worker's next request on it. Real origins outlast their proxy's idle time.
  server.keepAliveTimeout = 60_000;

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    records,
    cutShort,
    strays: () => strays,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A header's value; one Node hands over as an array is joined, as Node joins the others. */
function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
