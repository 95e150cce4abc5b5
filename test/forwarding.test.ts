import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { TestIssuer } from './helpers/issuer.ts';
import { type Echo, TestOrigin } from './helpers/origin.ts';
import { bearer, callWorker, varsFor, WORKER_URL } from './helpers/worker.ts';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.create();
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

function fromBase64url(text: string): string {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

describe('forwarding to the origin', () => {
  it('keeps method, path, query and ORIGIN’s base path', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(
      bearer(await issuer.mint(), '/v1/items/42?sort=desc&x=%20y', { method: 'DELETE' }),
      varsFor(issuer, origin, { ORIGIN: `${origin.url}/base/` }),
    );
    const echo = (await response.json()) as Echo;
    expect(echo.method).toBe('DELETE');
    expect(echo.path).toBe(`/${origin.id}/base/v1/items/42`);
    expect(echo.query).toBe('?sort=desc&x=%20y');
  });

  it('adds X-Auth-Subject and X-Auth-Claims from the verified token', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims: { sub: 'alice@example.test', tenant: 'ñ-üñí' } });
    const echo = (await (await callWorker(bearer(token), varsFor(issuer, origin))).json()) as Echo;
    expect(echo.headers['x-auth-subject']).toBe('alice@example.test');
    const claims = JSON.parse(fromBase64url(echo.headers['x-auth-claims'] as string));
    expect(claims).toMatchObject({ sub: 'alice@example.test', iss: issuer.url, tenant: 'ñ-üñí' });
    // The payload as the issuer signed it, byte for byte.
    expect(echo.headers['x-auth-claims']).toBe(token.split('.')[1]);
  });

  it('strips every client-sent X-Auth-* header, whatever its case', async () => {
    const origin = new TestOrigin();
    const token = await issuer.mint({ claims: { sub: 'real-user' } });
    const request = bearer(token, '/resource', {
      headers: {
        'X-Auth-Subject': 'admin',
        'x-auth-claims': 'eyJzdWIiOiJhZG1pbiJ9',
        'X-AUTH-ROLE': 'superuser',
        'x-keep-me': 'yes',
      },
    });
    const echo = (await (await callWorker(request, varsFor(issuer, origin))).json()) as Echo;
    expect(echo.headers['x-auth-subject']).toBe('real-user');
    expect(echo.headers['x-auth-role']).toBeUndefined();
    expect(JSON.parse(fromBase64url(echo.headers['x-auth-claims'] as string)).sub).toBe('real-user');
    expect(echo.headers['x-keep-me']).toBe('yes');
  });

  it('strips X-Auth-* on public paths and CORS preflights too', async () => {
    const origin = new TestOrigin();
    const vars = varsFor(issuer, origin, { PUBLIC_PATHS: '/health' });
    const publicEcho = (await (
      await callWorker(new Request(`${WORKER_URL}/health`, { headers: { 'x-auth-subject': 'admin' } }), vars)
    ).json()) as Echo;
    expect(publicEcho.headers['x-auth-subject']).toBeUndefined();
    const preflight = new Request(`${WORKER_URL}/resource`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'x-auth-subject': 'admin' },
    });
    const preflightEcho = (await (await callWorker(preflight, vars)).json()) as Echo;
    expect(preflightEcho.method).toBe('OPTIONS');
    expect(preflightEcho.headers['x-auth-subject']).toBeUndefined();
  });

  it('drops hop-by-hop headers and those the Connection header names', async () => {
    const origin = new TestOrigin();
    const request = bearer(await issuer.mint(), '/resource', {
      headers: {
        connection: 'keep-alive, x-secret-hop',
        'x-secret-hop': '1',
        'proxy-authorization': 'Basic eA==',
        te: 'trailers',
      },
    });
    const echo = (await (await callWorker(request, varsFor(issuer, origin))).json()) as Echo;
    expect(echo.headers['x-secret-hop']).toBeUndefined();
    expect(echo.headers['proxy-authorization']).toBeUndefined();
    expect(echo.headers.te).toBeUndefined();
    expect(echo.headers.authorization).toMatch(/^Bearer /);
  });

  it('forwards a large request body intact', async () => {
    const origin = new TestOrigin();
    const body = new Uint8Array(4 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 65_536) crypto.getRandomValues(body.subarray(i, i + 65_536));
    const request = bearer(await issuer.mint(), '/upload', { method: 'PUT', body });
    const echo = (await (await callWorker(request, varsFor(issuer, origin))).json()) as Echo;
    expect(echo.bodyBytes).toBe(body.length);
    expect(echo.bodySha256).toBe(await sha256Hex(body));
  });

  it('streams the origin’s response instead of buffering it', async () => {
    const origin = new TestOrigin();
    const { createExecutionContext } = await import('cloudflare:test');
    const worker = (await import('../src/index.ts')).default;
    const { envWith, incoming } = await import('./helpers/worker.ts');
    const response = await worker.fetch(
      incoming(bearer(await issuer.mint(), '/held-stream')),
      envWith(varsFor(issuer, origin)),
      createExecutionContext(),
    );
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    // The origin holds the rest until released: a buffering proxy would never deliver this chunk.
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('first\n');
    await origin.release();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += new TextDecoder().decode(chunk.value);
    expect(rest).toBe('second\n');
  });

  it('passes an origin redirect back to the client', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(bearer(await issuer.mint(), '/redirect'), varsFor(issuer, origin));
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/elsewhere');
  });

  it('lets CORS preflights through unverified but not other OPTIONS requests', async () => {
    const origin = new TestOrigin();
    const vars = varsFor(issuer, origin);
    const preflight = new Request(`${WORKER_URL}/resource`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' },
    });
    expect((await callWorker(preflight, vars)).status).toBe(200);
    const plainOptions = new Request(`${WORKER_URL}/resource`, { method: 'OPTIONS' });
    expect((await callWorker(plainOptions, vars)).status).toBe(401);
    expect(await origin.hits()).toBe(1);
  });

  describe('PUBLIC_PATHS', () => {
    it.each([
      ['/health', 200],
      ['/healthz', 401],
      ['/health/deep', 401],
      ['/public/a', 200],
      ['/public/a/b?c=d', 200],
      ['/public', 401],
      ['/publicity', 401],
      ['/public/../admin', 401],
      ['/public/%2e%2e/admin', 401],
      ['/public/%2e%2e%2fadmin', 401],
      ['/public/..%2Fadmin', 401],
      ['/public/a%5c..%5cadmin', 401],
      ['/public\\..\\admin', 401],
    ])('%s answers %i without a token', async (path, expected) => {
      const origin = new TestOrigin();
      const vars = varsFor(issuer, origin, { PUBLIC_PATHS: '/health,/public/*' });
      const response = await callWorker(new Request(`${WORKER_URL}${path}`), vars);
      expect(response.status).toBe(expected);
      expect(await origin.hits()).toBe(expected === 200 ? 1 : 0);
    });
  });
});
