import { env } from 'cloudflare:workers';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Env } from '../src/env.ts';
import { TestIssuer } from './helpers/issuer.ts';
import { TestOrigin } from './helpers/origin.ts';
import { policyIssuer, policyVars } from './helpers/policy.ts';
import { callWorker, WORKER_URL } from './helpers/worker.ts';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await TestIssuer.create();
});
beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

/** What the origin's first message says of the upgrade request it received. */
interface UpgradeEcho {
  path: string;
  headers: Record<string, string>;
}

function policy(origin: string | { service: string }, extra: Record<string, unknown> = {}): Env {
  return policyVars({
    issuers: { corp: policyIssuer(issuer) },
    routes: [
      { path: '/live/*', methods: ['GET'], access: 'required', scopes: { all: ['read'] }, ...extra },
      { path: '/*', access: 'public' },
    ],
    ...(typeof origin === 'string' ? { origin } : { origin_service: origin.service }),
  });
}

function upgrade(path: string, token?: string): Request {
  const headers = new Headers({ upgrade: 'websocket', 'x-auth-subject': 'admin' });
  if (token) headers.set('authorization', `Bearer ${token}`);
  return new Request(`${WORKER_URL}${path}`, { headers });
}

/** Messages from a socket, in order, awaited one at a time. */
function inbox(socket: WebSocket): () => Promise<string | Uint8Array> {
  const queue: Promise<string | Uint8Array>[] = [];
  const waiting: ((value: Promise<string | Uint8Array>) => void)[] = [];
  socket.addEventListener('message', (event) => {
    // Binary frames arrive as a Blob at this compatibility date.
    const data = typeof event.data === 'string' ? Promise.resolve(event.data) : bytesOf(event.data);
    const next = waiting.shift();
    if (next) next(data);
    else queue.push(data);
  });
  return () => queue.shift() ?? new Promise((resolve) => waiting.push(resolve));
}

async function bytesOf(data: unknown): Promise<Uint8Array> {
  return new Uint8Array(await new Response(data as Blob | ArrayBuffer).arrayBuffer());
}

async function openSocket(
  response: Response,
): Promise<{ socket: WebSocket; next: () => Promise<string | Uint8Array> }> {
  expect(response.status).toBe(101);
  const socket = response.webSocket as WebSocket;
  expect(socket).toBeTruthy();
  socket.accept();
  return { socket, next: inbox(socket) };
}

/** Text, then 64 KB of binary, each echoed back whole. */
async function roundTrip(socket: WebSocket, next: () => Promise<string | Uint8Array>): Promise<void> {
  socket.send('hello through the gateway');
  expect(await next()).toBe('hello through the gateway');
  const bytes = new Uint8Array(64 * 1024).map((_, i) => (i * 31) & 0xff);
  socket.send(bytes);
  expect(await next()).toEqual(bytes);
}

describe('WebSocket pass-through', () => {
  it('verifies the upgrade, then carries text and 64 KB binary frames both ways, identity headers included', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(upgrade('/live/ws', await issuer.mint()), policy(origin.url));
    const { socket, next } = await openSocket(response);
    const echo = JSON.parse((await next()) as string) as UpgradeEcho;
    expect(echo.path).toBe(`/${origin.id}/live/ws`);
    expect(echo.headers['x-auth-subject']).toBe('user-1');
    expect(echo.headers['x-auth-claims']).toBeTruthy();
    await roundTrip(socket, next);
    socket.close(1000, 'done');
    expect(await origin.hits()).toBe(1);
  });

  it('refuses an upgrade without a token (401) or with the wrong scope (403), and the origin is never upgraded', async () => {
    const origin = new TestOrigin();
    const vars = policy(origin.url);
    const missing = await callWorker(upgrade('/live/ws'), vars);
    expect(missing.status).toBe(401);
    expect(missing.webSocket).toBeNull();
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const wrongScope = await callWorker(upgrade('/live/ws', await issuer.mint({ claims: { scope: 'write' } })), vars);
    expect(wrongScope.status).toBe(403);
    expect(wrongScope.webSocket).toBeNull();
    expect(await origin.hits()).toBe(0);
  });

  it('never cuts an open socket at the origin timeout: the timeout bounds the 101 only', async () => {
    const origin = new TestOrigin();
    const response = await callWorker(
      upgrade('/live/ws', await issuer.mint()),
      policy(origin.url, { origin_timeout_seconds: 1 }),
    );
    const { socket, next } = await openSocket(response);
    await next();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await roundTrip(socket, next);
    socket.close(1000, 'done');
  });

  it('passes an upgrade through a service-binding origin', async () => {
    const vars = { ...policy({ service: 'ORIGIN_SERVICE' }), ORIGIN_SERVICE: (env as unknown as Env).ORIGIN_SERVICE };
    const response = await callWorker(upgrade('/live/ws', await issuer.mint()), vars as Env);
    const { socket, next } = await openSocket(response);
    const echo = JSON.parse((await next()) as string) as UpgradeEcho;
    expect(echo.path).toBe('/live/ws');
    expect(echo.headers['x-auth-subject']).toBe('user-1');
    await roundTrip(socket, next);
    socket.close(1000, 'done');
  });

  it('drops Upgrade on a request that is not a WebSocket handshake', async () => {
    const origin = new TestOrigin();
    const request = new Request(`${WORKER_URL}/page`, { headers: { upgrade: 'h2c', connection: 'upgrade' } });
    const response = await callWorker(request, policy(origin.url));
    expect(response.status).toBe(200);
    const echo = (await response.json()) as UpgradeEcho;
    expect(echo.headers.upgrade).toBeUndefined();
  });
});
