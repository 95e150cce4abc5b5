/**
 * A demo and test origin: answers every request with what it received (method, path, query,
 * headers, body size and SHA-256) and counts requests per first path segment, so a test can
 * prove that a refused request never reached it. A WebSocket upgrade to a path ending in `/ws`
 * is accepted: its first message is what the upgrade request carried (path, headers), then
 * every message comes back as it was sent, text as text and binary as binary.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type * as Ws from 'ws';

// Loaded through require: the test runner resolves packages with the browser condition, where ws
// exports a stub.
const { WebSocketServer } = createRequire(import.meta.url)('ws') as typeof Ws;

export interface EchoOrigin {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

export async function startEchoOrigin(port = 0): Promise<EchoOrigin> {
  const hits = new Map<string, number>();
  /** Requests whose client went away before the answer was sent, per first path segment. */
  const aborted = new Map<string, number>();
  const held = new Map<string, ServerResponse>();

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://origin.local');
    const segment = url.pathname.split('/')[1] ?? '';

    if (segment === '__stats') {
      const id = url.pathname.split('/')[2] ?? '';
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ hits: hits.get(id) ?? 0, aborted: aborted.get(id) ?? 0 }));
      return;
    }
    if (segment === '__release') {
      const id = url.pathname.split('/')[2] ?? '';
      held.get(id)?.end('second\n');
      held.delete(id);
      res.writeHead(204).end();
      return;
    }
    hits.set(segment, (hits.get(segment) ?? 0) + 1);

    if (url.pathname.endsWith('/held-stream')) {
      // Sends one chunk, then waits for /__release/<segment>: a proxy that buffers never shows the first chunk.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first\n');
      held.set(segment, res);
      return;
    }
    if (url.pathname.endsWith('/slow-headers')) {
      // Answers after ?ms= milliseconds (at most 10 s), and counts a client that gave up first.
      const delayMs = Math.min(Number(url.searchParams.get('ms') ?? 0), 10_000);
      const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('late\n'), delayMs);
      res.on('close', () => {
        if (res.headersSent) return;
        clearTimeout(timer);
        aborted.set(segment, (aborted.get(segment) ?? 0) + 1);
      });
      return;
    }
    if (url.pathname.endsWith('/reset-before-headers')) {
      req.socket.destroy();
      return;
    }
    if (url.pathname.endsWith('/reset-mid-body')) {
      // Promises 100 bytes, sends 6, then drops the connection.
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      res.write('first\n', () => res.socket?.destroy());
      return;
    }
    const status = /\/status\/(\d{3})$/.exec(url.pathname)?.[1];
    if (status !== undefined) {
      res
        .writeHead(Number(status), { 'content-type': 'text/plain', 'x-origin': 'echo' })
        .end(`origin says ${status}\n`);
      return;
    }
    if (url.pathname.endsWith('/redirect')) {
      res.writeHead(302, { location: '/elsewhere' }).end();
      return;
    }

    const hash = createHash('sha256');
    let bodyBytes = 0;
    try {
      for await (const chunk of req) {
        bodyBytes += (chunk as Buffer).length;
        hash.update(chunk as Buffer);
      }
    } catch {
      // The client went away mid-upload.
      aborted.set(segment, (aborted.get(segment) ?? 0) + 1);
      return;
    }
    if (req.readableAborted) {
      aborted.set(segment, (aborted.get(segment) ?? 0) + 1);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'x-origin': 'echo' }).end(
      JSON.stringify(
        {
          method: req.method,
          path: url.pathname,
          query: url.search,
          headers: req.headers,
          bodyBytes,
          bodySha256: hash.digest('hex'),
        },
        null,
        2,
      ),
    );
  });

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://origin.local');
    const segment = url.pathname.split('/')[1] ?? '';
    hits.set(segment, (hits.get(segment) ?? 0) + 1);
    if (!url.pathname.endsWith('/ws')) {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    sockets.handleUpgrade(req, socket, head, (ws) => {
      ws.send(JSON.stringify({ method: req.method, path: url.pathname, query: url.search, headers: req.headers }));
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    async close() {
      for (const res of held.values()) res.destroy();
      for (const ws of sockets.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
