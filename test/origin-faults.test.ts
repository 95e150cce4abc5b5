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
