/**
 * A response whose body is already in memory and whose every read settles as a microtask. The
 * runtimes' own `Response` bodies do not: in workerd a read of `new Response('…')` needs turns
 * of the event loop (it never completed over 100 `MessageChannel` yields), so a simulated tier
 * or issuer answering with one would let the clock move before the code had read it.
 */

export interface InMemoryInit {
  readonly status?: number;
  readonly headers?: Record<string, string>;
}

/** The members of `Response` that fetch-json.ts and the tiers read: status, headers, the body as a stream, json, text. */
export function inMemoryResponse(text: string, init: InMemoryInit = {}): Response {
  const bytes = new TextEncoder().encode(text);
  const status = init.status ?? 200;
  let used = false;
  const take = (): Promise<string> => {
    if (used) return Promise.reject(new TypeError('body already used'));
    used = true;
    return Promise.resolve(text);
  };
  const body = {
    getReader() {
      let sent = used;
      used = true;
      return {
        read: () => {
          const chunk = sent ? { done: true, value: undefined } : { done: false, value: bytes };
          sent = true;
          return Promise.resolve(chunk);
        },
        cancel: () => Promise.resolve(),
        releaseLock() {},
      };
    },
    cancel: () => {
      used = true;
      return Promise.resolve();
    },
  };
  const response = {
    status,
    ok: status >= 200 && status < 300,
    headers: new Headers(init.headers),
    body,
    get bodyUsed() {
      return used;
    },
    text: take,
    json: () => take().then((value) => JSON.parse(value) as unknown),
  };
  return response as unknown as Response;
}
