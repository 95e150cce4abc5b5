/**
 * A WebSocket opening handshake (RFC 6455 §4.1: a GET with `Upgrade: websocket`). `Upgrade` is
 * hop-by-hop and otherwise dropped (RFC 9110 §7.8); for this request it is handed on, so the
 * runtime opens the socket to the origin and the gateway returns its 101 with the socket.
 */
export function isWebSocketUpgrade(request: Request): boolean {
  return request.method === 'GET' && request.headers.get('upgrade')?.trim().toLowerCase() === 'websocket';
}
