/**
 * The one origin every system proxies to, in its own process: the smallest useful answer, so
 * it never limits throughput and its CPU is never counted against a system under test.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY = '{"ok":true}';

const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY.length }).end(BODY);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
