import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { policyIssuer, policyVars } from './helpers/policy.ts';
import { bearer, callWorker, envWith, incoming, varsFor } from './helpers/worker.ts';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.create();
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

async function until(condition: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('origin timeout (ORIGIN_TIMEOUT_SECONDS)', () => {
  it('answers 504 origin_timeout when no headers arrive in time, and aborts the origin request', async () => {
    const origin = new TestOrigin();
    const started = Date.now();
    const response = await callWorker(
      bearer(await issuer.mint(), '/slow-headers?ms=5000'),
      varsFor(issuer, origin, { ORIGIN_TIMEOUT_SECONDS: '1' }),
    );
    expect(response.status).toBe(504);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(((await response.json()) as { code: string }).code).toBe('origin_timeout');
    expect(Date.now() - started).toBeLessThan(4_000);
    await until(async () => (await origin.aborted()) === 1);
  });

  it('forwards an answer that comes within the timeout', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(
      bearer(await issuer.mint(), '/slow-headers?ms=300'),
      varsFor(issuer, origin, { ORIGIN_TIMEOUT_SECONDS: '2' }),
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('late\n');
    expect(await origin.aborted()).toBe(0);
  });

  it('never cuts a body that started before the timeout', async () => {
    const origin = new TestOrigin();
    const { createExecutionContext } = await import('cloudflare:test');
    const worker = (await import('../src/index.ts')).default;
    const response = await worker.fetch(
      incoming(bearer(await issuer.mint(), '/held-stream')),
      envWith(varsFor(issuer, origin, { ORIGIN_TIMEOUT_SECONDS: '1' })),
      createExecutionContext(),
    );
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first\n');
    // Past the timeout, the rest still arrives.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await origin.release();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += new TextDecoder().decode(chunk.value);
    expect(rest).toBe('second\n');
  });

  it('takes a route’s own origin_timeout_seconds over the policy’s', async () => {
    const origin = new TestOrigin();
    const vars = policyVars({
      issuers: { corp: policyIssuer(issuer) },
      routes: [
        { path: '/patient/*', access: 'required', origin_timeout_seconds: 3 },
        { path: '/*', access: 'required' },
      ],
      origin: origin.url,
      origin_timeout_seconds: 1,
    });
    const token = await issuer.mint();
    expect((await callWorker(bearer(token, '/patient/slow-headers?ms=1500'), vars)).status).toBe(200);
    expect((await callWorker(bearer(token, '/other/slow-headers?ms=1500'), vars)).status).toBe(504);
  });

  it('defaults to 30 s and accepts 1 to 300', () => {
    const base = { ISSUER: 'https://issuer.example/', AUDIENCE: 'a', ORIGIN: 'https://o.example' };
    expect(parseConfig(base).originTimeoutMs).toBe(30_000);
    expect(parseConfig({ ...base, ORIGIN_TIMEOUT_SECONDS: '300' }).originTimeoutMs).toBe(300_000);
    for (const bad of ['0', '301', '1.5', 'soon']) {
      expect(() => parseConfig({ ...base, ORIGIN_TIMEOUT_SECONDS: bad })).toThrow(ConfigError);
    }
  });
});

describe('origin faults', () => {
  it('answers 502 origin_unreachable when the origin refuses the connection', async () => {
    // Port 1 on loopback: nothing listens there.
    const response = await callWorker(
      bearer(await issuer.mint()),
      varsFor(issuer, new TestOrigin(), { ORIGIN: 'http://127.0.0.1:1' }),
    );
    expect(response.status).toBe(502);
    expect(((await response.json()) as { code: string }).code).toBe('origin_unreachable');
  });

  it('answers 502 when the origin drops the connection before its headers', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(bearer(await issuer.mint(), '/reset-before-headers'), varsFor(issuer, origin));
    expect(response.status).toBe(502);
    expect(await origin.hits()).toBe(1);
  });

  it('never presents a body cut mid-way as complete', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(bearer(await issuer.mint(), '/reset-mid-body'), varsFor(issuer, origin));
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });

  it('passes an origin 5xx through as it is', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(bearer(await issuer.mint(), '/status/503'), varsFor(issuer, origin));
    expect(response.status).toBe(503);
    expect(response.headers.get('x-origin')).toBe('echo');
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(await response.text()).toBe('origin says 503\n');
  });

  it('aborts the origin request when the client’s upload fails mid-body, and answers the next request', async () => {
    const origin = new TestOrigin();
    const vars = varsFor(issuer, origin);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 4) {
          controller.error(new Error('client went away'));
          return;
        }
        sent++;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const upload = bearer(await issuer.mint(), '/upload', { method: 'POST', body, duplex: 'half' } as RequestInit);
    const failed = await callWorker(upload, vars).catch((error: unknown) => error);
    // The Worker answers rather than hanging or crashing, and the origin sees its request fail
    // instead of a shorter body that looks whole.
    expect(failed instanceof Response ? failed.status : 'threw').toBe(400);
    expect(((await (failed as Response).json()) as { code: string }).code).toBe('upload_aborted');
    await until(async () => (await origin.aborted()) === 1);
    expect((await callWorker(bearer(await issuer.mint(), '/next'), vars)).status).toBe(200);
  });
});
