/**
 * The Worker bound to the gateway under test as the ORIGIN_SERVICE service binding: answers with
 * what it received (method, URL, headers, body size and SHA-256) and counts requests per first
 * path segment, so a test can prove that a refused request never reached it.
 */

/** Requests per first path segment, for this isolate (the tests' one). */
const hits = new Map();

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const [, segment = '', id = ''] = url.pathname.split('/');
    if (segment === '__stats') return Response.json({ hits: hits.get(id) ?? 0 });
    hits.set(segment, (hits.get(segment) ?? 0) + 1);

    if (url.pathname.endsWith('/redirect'))
      return new Response(null, { status: 302, headers: { location: '/elsewhere' } });
    if (url.pathname.endsWith('/throw')) throw new Error('the origin Worker failed');
    if (url.pathname.endsWith('/ws') && request.headers.get('upgrade') === 'websocket') {
      // The first message is what the upgrade carried; then every message comes back as sent.
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.send(
        JSON.stringify({ method: request.method, path: url.pathname, headers: Object.fromEntries(request.headers) }),
      );
      // Binary frames arrive as a Blob at this compatibility date; they go back as bytes.
      server.addEventListener('message', (event) => {
        if (typeof event.data === 'string') server.send(event.data);
        else new Response(event.data).arrayBuffer().then((bytes) => server.send(bytes));
      });
      return new Response(null, { status: 101, webSocket: client });
    }

    const body = new Uint8Array(await request.arrayBuffer());
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
    return Response.json(
      {
        method: request.method,
        url: request.url,
        path: url.pathname,
        query: url.search,
        headers: Object.fromEntries(request.headers),
        bodyBytes: body.length,
        bodySha256: [...digest].map((byte) => byte.toString(16).padStart(2, '0')).join(''),
      },
      { headers: { 'x-origin': 'echo-service' } },
    );
  },
};
