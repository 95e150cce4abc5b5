import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { expect, vi } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import type { Env } from '../../src/env.ts';
import { ERROR_SPECS, type ErrorCode } from '../../src/errors.ts';
import { metadataUrls } from '../../src/keys/remote/discovery.ts';
import type { Clock } from '../../src/shared/clock.ts';
import { createApp, type GatewayApp } from '../../src/worker/app.ts';
import type { TestIssuer, TestKey } from '../helpers/issuer.ts';
import { TestOrigin } from '../helpers/origin.ts';
import { bearer, envWith, parseChallenge, varsFor } from '../helpers/worker.ts';

/**
 * The whole gateway in front of a test issuer and origin, with every outbound fetch recorded,
 * so that each attack case can assert where the Worker reached out, not only what it answered.
 */
export class Target {
  readonly origin = new TestOrigin();
  readonly fetched: string[] = [];
  readonly logLines: string[] = [];
  readonly vars: Env;
  /** The gateway's clock, in epoch ms; tests move it to cross TTLs and cooldowns. */
  nowMs = Date.now();
  /** Requests this target let through: the origin must have seen exactly these. */
  private accepted = 0;
  private readonly gateway: GatewayApp;

  constructor(
    readonly issuer: TestIssuer,
    extra: Partial<Env> = {},
    /** Timers that move the gateway's clock instead of waiting in real time (a wait on a refresh costs nothing). */
    { virtualTimers = false }: { virtualTimers?: boolean } = {},
  ) {
    this.vars = varsFor(issuer, this.origin, extra);
    const recordingFetch: typeof fetch = (input, init) => {
      this.fetched.push(input instanceof Request ? input.url : String(input));
      return fetch(input, init);
    };
    const now = () => this.nowMs;
    const virtual: Clock = {
      now,
      after: (ms, task) => {
        const timer = setTimeout(() => {
          this.nowMs += ms;
          task();
        }, 0);
        return () => clearTimeout(timer);
      },
    };
    this.gateway = createApp(parseConfig(this.vars), {
      now,
      ...(virtualTimers ? { clock: virtual } : {}),
      fetch: recordingFetch,
      log: (event, fields) => this.logLines.push(JSON.stringify({ event, ...fields })),
    });
    vi.spyOn(console, 'log').mockImplementation(() => {});
  }

  get nowSeconds(): number {
    return Math.floor(this.nowMs / 1000);
  }

  advance(seconds: number): void {
    this.nowMs += seconds * 1000;
  }

  /** Issuer fetches of the configured JWKS URI so far. */
  jwksFetches(): number {
    return this.fetched.filter((url) => url === this.issuer.jwksUri).length;
  }

  async send(request: Request): Promise<Response> {
    const ctx = createExecutionContext();
    const response = await this.gateway.app.fetch(request, envWith(this.vars), ctx);
    await waitOnExecutionContext(ctx);
    return response;
  }

  sendToken(token: string): Promise<Response> {
    return this.send(bearer(token));
  }

  /**
   * Exact status, code and RFC 6750 challenge for the code; nothing reached the origin; no
   * fetch went anywhere but the configured JWKS URI; nothing from `secret` leaked into the
   * response headers, body or logs.
   */
  async expectRefused(response: Response, code: ErrorCode, secret?: string): Promise<void> {
    const spec = ERROR_SPECS[code];
    const text = await response.text();
    expect({ status: response.status, code: (JSON.parse(text) as { code: string }).code }).toEqual({
      status: spec.status,
      code,
    });
    expect(response.headers.get('cache-control')).toBe('no-store');
    if (spec.challenge) {
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      const expected: Record<string, string> = { realm: 'api' };
      if ('oauthError' in spec) {
        expected.error = spec.oauthError;
        expected.error_description = spec.description;
      }
      expect(challenge).toMatchObject(expected);
    }
    expect(await this.origin.hits()).toBe(this.accepted);
    const allowed = [this.issuer.jwksUri];
    if (this.vars.JWKS_URI === undefined) allowed.push(...metadataUrls(this.issuer.url));
    // Origin requests are counted exactly above; anything else must be the key source.
    expect(this.fetched.filter((url) => !allowed.includes(url) && !url.startsWith(`${this.origin.url}/`))).toEqual([]);
    if (secret) {
      const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
      for (const place of [headers, text, ...this.logLines]) expect(place).not.toContain(secret);
    }
  }

  async expectAccepted(response: Response): Promise<void> {
    expect(response.status).toBe(200);
    await response.body?.cancel();
    this.accepted++;
  }
}

export function b64url(input: string | Uint8Array): string {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromB64url(segment: string): Uint8Array {
  const binary = atob(segment.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** A compact JWS from raw header and payload JSON text, signed by `sign` (or with the given signature). */
export async function rawToken(
  headerJson: string,
  payloadJson: string,
  sign: ((input: Uint8Array) => Promise<Uint8Array>) | string = '',
): Promise<string> {
  const signingInput = `${b64url(headerJson)}.${b64url(payloadJson)}`;
  const signature = typeof sign === 'string' ? sign : b64url(await sign(new TextEncoder().encode(signingInput)));
  return `${signingInput}.${signature}`;
}

/** HMAC-SHA-* over the signing input with an attacker-chosen secret. */
export function hmacSigner(alg: 'HS256' | 'HS384' | 'HS512', secret: Uint8Array) {
  return async (input: Uint8Array): Promise<Uint8Array> => {
    const key = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: `SHA-${alg.slice(2)}` }, false, [
      'sign',
    ]);
    return new Uint8Array(await crypto.subtle.sign('HMAC', key, input));
  };
}

/** Valid default claims for a target's issuer, as JSON text so tests can splice it. */
export function claimsJson(issuer: TestIssuer, overrides: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return JSON.stringify({
    iss: issuer.url,
    aud: 'https://api.example.test',
    sub: 'user-1',
    iat: now,
    exp: now + 300,
    scope: 'read write',
    ...overrides,
  });
}

/** Signs with a test key's private key as its alg says (RS256/PS256/ES256/EdDSA), over any bytes. */
export function keySigner(key: TestKey) {
  const params: Record<string, Parameters<SubtleCrypto['sign']>[0]> = {
    RS256: { name: 'RSASSA-PKCS1-v1_5' },
    PS256: { name: 'RSA-PSS', saltLength: 32 },
    ES256: { name: 'ECDSA', hash: 'SHA-256' },
    EdDSA: { name: 'Ed25519' },
  };
  const algorithm = params[key.alg];
  if (!algorithm) throw new Error(`no signer for ${key.alg}`);
  return async (input: Uint8Array): Promise<Uint8Array> =>
    new Uint8Array(await crypto.subtle.sign(algorithm, key.privateKey, input));
}

/** A token for `key` whose header and payload are the given JSON text, validly signed. */
export function signedRaw(key: TestKey, headerJson: string, payloadJson: string): Promise<string> {
  return rawToken(headerJson, payloadJson, keySigner(key));
}
