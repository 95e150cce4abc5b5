/**
 * The headers of a WebSocket opening handshake (RFC 6455 §4.1: `Upgrade: websocket` on a GET). `Upgrade` is
 * hop-by-hop and otherwise dropped (RFC 9110 §7.8); for this request it is handed on, so the
 * runtime opens the socket to the origin and the gateway returns its 101 with the socket.
 */
export function isWebSocketUpgrade(headers: Headers): boolean {
  return headers.get('upgrade')?.trim().toLowerCase() === 'websocket';
}
