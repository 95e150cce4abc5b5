import { isSafeKeySourceUrl } from '../../policy/url-safety.ts';
import { KeySourceError } from './key-source-error.ts';

export interface FetchJsonOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Injected so that tests and the library face can count or route fetches; defaults to global fetch. */
  readonly fetch?: typeof fetch;
}

export interface FetchedJson {
  readonly body: unknown;
  /** `Cache-Control: max-age` in seconds, when the server sent one. */
  readonly maxAgeSeconds: number | undefined;
}

const MAX_REDIRECTS = 3;

/**
 * GETs a JSON document from a key source defensively: bounded time, bounded size read as a
 * stream, redirects followed only on the same host and scheme (a redirect elsewhere could
 * hand us an attacker's keys), 200 only.
 */
export async function fetchJson(url: string, options: FetchJsonOptions): Promise<FetchedJson> {
  const doFetch = options.fetch ?? fetch;
  const signal = AbortSignal.timeout(options.timeoutMs);
  let current = new URL(url);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let response: Response;
    try {
      response = await doFetch(current.href, {
        headers: { accept: 'application/json' },
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      throw new KeySourceError(`fetch failed: ${(error as Error).name}`, { cause: error });
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      current = sameOriginRedirect(current, response.headers.get('location'));
      continue;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new KeySourceError(`unexpected status ${response.status}`);
    }
    const text = await readCapped(response, options.maxBytes);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new KeySourceError('response is not JSON');
    }
    return { body, maxAgeSeconds: parseMaxAge(response.headers.get('cache-control')) };
  }
  throw new KeySourceError('too many redirects');
}

function sameOriginRedirect(from: URL, location: string | null): URL {
  if (!location) throw new KeySourceError('redirect without Location');
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw new KeySourceError('redirect to an invalid URL');
  }
  if (to.origin !== from.origin || !isSafeKeySourceUrl(to)) throw new KeySourceError('redirect off the issuer host');
  return to;
}

/** The body as strict UTF-8 text, read as a stream and refused past `maxBytes`. */
export async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new KeySourceError('response too large');
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new KeySourceError('response too large');
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new KeySourceError('response is not UTF-8');
  }
}

/** RFC 9111 §5.2.2.1; `no-store`/`no-cache` count as zero so the TTL floor applies. */
export function parseMaxAge(cacheControl: string | null): number | undefined {
  if (!cacheControl) return undefined;
  if (/(?:^|,)\s*(?:no-store|no-cache)\s*(?:,|$)/i.test(cacheControl)) return 0;
  const match = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(?:,|$)/i.exec(cacheControl);
  return match ? Number(match[1]) : undefined;
}
