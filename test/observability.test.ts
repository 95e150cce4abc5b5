import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { Hono } from 'hono';
import { beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { Env } from '../src/env.ts';
import { edgeVerifier } from '../src/lib.ts';
import { newDecision } from '../src/observe/decision.ts';
import { LOG_EVENTS, LOG_LEVELS, type LogEvent } from '../src/observe/events.ts';
import { levelledLogger } from '../src/observe/log.ts';
import { createReporter } from '../src/observe/report.ts';
import { AUDIENCE, TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { bearer, callWorker, envWith, varsFor, WORKER_URL } from './helpers/worker.ts';

let consoleLog: MockInstance;
beforeEach(() => {
  consoleLog = vi.spyOn(console, 'log').mockImplementation(() => {});
});

/** The `request` lines logged since the last call, parsed. */
function requestLines(): Record<string, unknown>[] {
  const lines = consoleLog.mock.calls.map(([line]) => JSON.parse(String(line)) as Record<string, unknown>);
  consoleLog.mockClear();
  return lines.filter((line) => line.event === 'request');
}

function analytics() {
  const points: { blobs?: string[]; doubles?: number[]; indexes?: string[] }[] = [];
  return { points, binding: { writeDataPoint: (point: (typeof points)[number]) => points.push(point) } };
}

describe('one decision line per request', () => {
  it('names the outcome, route, issuer, kid and key tier of forwarded requests, tier by tier', async () => {
    const issuer = await TestIssuer.create();
    const vars = varsFor(issuer, new TestOrigin(), { LOG_SUCCESS_SAMPLE: '1' });
    const repeated = await issuer.mint();
    const tiers: unknown[] = [];
    for (const token of [repeated, await issuer.mint({ claims: { sub: 'other' } }), repeated, repeated]) {
      expect((await callWorker(bearer(token, '/items?x=1'), vars)).status).toBe(200);
      const [line, ...more] = requestLines();
      expect(more).toEqual([]);
      expect(line).toMatchObject({
        level: 'info',
        outcome: 'forwarded',
        status: 200,
        method: 'GET',
        path: '/items',
        route: '*',
        issuer: 'default',
      });
      expect(typeof line?.origin_ms).toBe('number');
      tiers.push(line?.key_tier);
      if (line?.key_tier !== 'token_cache') expect(line?.kid).toBe(issuer.key.kid);
    }
    // Cold: from the issuer; then memory; a token verified twice is served from the token cache.
    expect(tiers).toEqual(['issuer', 'memory', 'memory', 'token_cache']);
  });

  it('names the code of each refusal, at warn, and at error for a 5xx', async () => {
    const issuer = await TestIssuer.create();
    const vars = varsFor(issuer, new TestOrigin(), { PUBLIC_PATHS: '/health' });
    const expired = await issuer.mint({ at: Math.floor(Date.now() / 1000) - 3600 });
    await callWorker(bearer(expired), vars);
    await callWorker(new Request(`${WORKER_URL}/x`), vars);
    await callWorker(bearer(await issuer.mint()), { ...vars, AUDIENCE: '' });
    expect(requestLines().map(({ outcome, status, level }) => ({ outcome, status, level }))).toEqual([
      { outcome: 'token_expired', status: 401, level: 'warn' },
      { outcome: 'missing_token', status: 401, level: 'warn' },
      { outcome: 'config_invalid', status: 500, level: 'error' },
    ]);
  });

  it('never carries the token or a claim value', async () => {
    const issuer = await TestIssuer.create();
    const vars = varsFor(issuer, new TestOrigin());
    const token = await issuer.mint({ claims: { sub: 'subject-secret-1', email: 'secret@example.test' } });
    await callWorker(bearer(token), vars);
    await callWorker(bearer(`${token.slice(0, -4)}AAAA`), vars);
    const logged = consoleLog.mock.calls.map(([line]) => String(line)).join('\n');
    expect(logged).toContain('"event":"request"');
    for (const secret of [
      token,
      token.split('.')[1] as string,
      token.split('.')[2] as string,
      'subject-secret-1',
      'secret@example.test',
    ]) {
      expect(logged).not.toContain(secret);
    }
  });

  it('logs only refusals and failures at LOG_LEVEL=warn, and the alg at debug', async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    await callWorker(bearer(await issuer.mint()), varsFor(issuer, origin, { LOG_LEVEL: 'warn' }));
    await callWorker(new Request(`${WORKER_URL}/x`), varsFor(issuer, origin, { LOG_LEVEL: 'warn' }));
    expect(requestLines().map((line) => line.outcome)).toEqual(['missing_token']);
    await callWorker(bearer(await issuer.mint()), varsFor(issuer, origin, { LOG_LEVEL: 'debug' }));
    expect(requestLines()[0]).toMatchObject({ outcome: 'forwarded', alg: 'RS256' });
    const invalid = await callWorker(bearer(await issuer.mint()), varsFor(issuer, origin, { LOG_LEVEL: 'verbose' }));
    expect(invalid.status).toBe(500);
    expect(((await invalid.json()) as { detail: string }).detail).toContain('LOG_LEVEL');
  });

  it('writes a line for every refusal but only for the sampled share of successes (LOG_SUCCESS_SAMPLE)', async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    const token = await issuer.mint();
    for (const sample of ['0', undefined]) {
      const vars = varsFor(issuer, origin, sample === undefined ? {} : { LOG_SUCCESS_SAMPLE: sample });
      for (let i = 0; i < 50; i++) expect((await callWorker(bearer(token), vars)).status).toBe(200);
      await callWorker(new Request(`${WORKER_URL}/x`), vars);
    }
    const outcomes = requestLines().map((line) => line.outcome);
    // Sample 0: no success line; the default (DEFAULT_LOG_SUCCESS_SAMPLE, a small share): a few at most.
    expect(outcomes.filter((outcome) => outcome === 'missing_token')).toHaveLength(2);
    expect(outcomes.filter((outcome) => outcome === 'forwarded').length).toBeLessThan(50 * 0.5);
    for (const bad of ['2', '-0.1', 'half', '1e-2']) {
      const invalid = await callWorker(bearer(token), varsFor(issuer, origin, { LOG_SUCCESS_SAMPLE: bad }));
      expect(invalid.status).toBe(500);
      expect(((await invalid.json()) as { detail: string }).detail).toContain('LOG_SUCCESS_SAMPLE');
    }
  });

  it('samples successes by the share it is given, and writes every one at debug', () => {
    const lines: string[] = [];
    const draws = [0.1, 0.3, 0.2, 0.9, 0.05];
    const random = () => draws.shift() ?? 1;
    const outcome = (status: number) => ({
      outcome: status === 200 ? ('forwarded' as const) : ('token_expired' as const),
      status,
      method: 'GET',
      path: '/',
      decision: newDecision(),
    });
    const report = createReporter((_event, fields) => lines.push(String(fields?.outcome)), 'info', {
      successSample: 0.25,
      random,
    });
    for (const status of [200, 200, 401, 200, 200, 200]) report({}, outcome(status));
    // Draws 0.1 and 0.2 and 0.05 fall under 0.25; the refusal takes no draw.
    expect(lines).toEqual(['forwarded', 'token_expired', 'forwarded', 'forwarded']);
    const debugLines: string[] = [];
    const debug = createReporter((_event, fields) => debugLines.push(String(fields?.outcome)), 'debug', {
      successSample: 0,
    });
    for (let i = 0; i < 3; i++) debug({}, outcome(200));
    expect(debugLines).toHaveLength(3);
  });

  it('the middleware logs its decisions too, as allowed with the handler’s status', async () => {
    const issuer = await TestIssuer.create(['ES256']);
    const app = new Hono<{ Bindings: Env }>();
    app.use(
      '/api/*',
      edgeVerifier({ vars: { ISSUER: issuer.url, AUDIENCE, JWKS_URI: issuer.jwksUri }, logSuccessSample: 1 }),
    );
    app.get('/api/me', (c) => c.json({ subject: c.var.auth?.subject }, 201));
    const ctx = createExecutionContext();
    await app.fetch(bearer(await issuer.mint(), '/api/me'), envWith({}), ctx);
    await waitOnExecutionContext(ctx);
    expect(requestLines()).toMatchObject([{ outcome: 'allowed', status: 201, issuer: 'default', key_tier: 'issuer' }]);
  });
});

describe('log levels (LOG_LEVEL)', () => {
  it('keeps each event at its own level and above, and drops it below', () => {
    for (const event of Object.keys(LOG_EVENTS) as LogEvent[]) {
      const own = LOG_LEVELS.indexOf(LOG_EVENTS[event].level);
      LOG_LEVELS.forEach((level, i) => {
        const kept: string[] = [];
        levelledLogger((name) => kept.push(name), level)(event);
        expect({ event, level, kept: kept.length }).toEqual({ event, level, kept: i >= own ? 1 : 0 });
      });
    }
  });

  it('keeps the coordinator and DPoP replay fallbacks at LOG_LEVEL=warn: the events an operator most needs', () => {
    const kept: string[] = [];
    const log = levelledLogger((name) => kept.push(name), 'warn');
    log('jwks_coordinator_unavailable', { tier: 'coordinator' });
    log('dpop_replay_unavailable', { tier: 'dpop_replay' });
    log('jwks_fetched', {});
    expect(kept).toEqual(['jwks_coordinator_unavailable', 'dpop_replay_unavailable']);
  });
});

describe('Analytics Engine (AUTH_ANALYTICS)', () => {
  it('writes one data point per request: outcome, route, issuer, tier; verify ms, origin ms, status; index issuer', async () => {
    const issuer = await TestIssuer.create();
    const { points, binding } = analytics();
    const vars = { ...varsFor(issuer, new TestOrigin()), AUTH_ANALYTICS: binding } as unknown as Env;
    await callWorker(bearer(await issuer.mint()), vars);
    await callWorker(new Request(`${WORKER_URL}/x`), vars);
    expect(points).toHaveLength(2);
    expect(points[0]?.blobs).toEqual(['forwarded', '*', 'default', 'issuer']);
    expect(points[0]?.indexes).toEqual(['default']);
    expect(points[0]?.doubles).toHaveLength(3);
    expect(points[0]?.doubles?.[2]).toBe(200);
    expect(points[1]).toEqual({ blobs: ['missing_token', '*', '', ''], doubles: [0, 0, 401], indexes: [''] });
  });
});

describe('Server-Timing (SERVER_TIMING)', () => {
  it('adds auth;dur and the key tier to forwarded responses only when enabled', async () => {
    const issuer = await TestIssuer.create();
    const origin = new TestOrigin();
    const on = await callWorker(bearer(await issuer.mint()), varsFor(issuer, origin, { SERVER_TIMING: 'true' }));
    expect(on.headers.get('server-timing')).toMatch(/^auth;dur=\d+(\.\d+)?;desc="(issuer|memory|cache_api|kv)"$/);
    const refused = await callWorker(
      new Request(`${WORKER_URL}/x`),
      varsFor(issuer, origin, { SERVER_TIMING: 'true' }),
    );
    expect(refused.headers.get('server-timing')).toBeNull();
    const off = await callWorker(bearer(await issuer.mint()), varsFor(issuer, origin));
    expect(off.status).toBe(200);
    expect(off.headers.get('server-timing')).toBeNull();
    const bad = await callWorker(bearer(await issuer.mint()), varsFor(issuer, origin, { SERVER_TIMING: 'yes' }));
    expect(bad.status).toBe(500);
  });
});
