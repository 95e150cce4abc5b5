import { exportJWK, generateKeyPair, importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import { inject } from 'vitest';

export const AUDIENCE = 'https://api.example.test';

export interface TestKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function makeKey(
  alg: string,
  kid = `${alg.toLowerCase()}-${crypto.randomUUID().slice(0, 8)}`,
): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** An RSA-1024 key, which jose refuses to create, so WebCrypto makes it: for "too weak" cases. */
export async function makeWeakRsaKey(kid = 'rsa-1024'): Promise<TestKey> {
  const pair = (await crypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
  return { kid, alg: 'RS256', privateKey: pair.privateKey, publicJwk: { ...(await exportJWK(pair.publicKey)), kid } };
}

/** The same key pair, re-imported to sign with another algorithm of its family (RS256 → PS256). */
export async function withAlg(key: TestKey, alg: string): Promise<TestKey> {
  const { alg: _alg, ...privateJwk } = await exportJWK(key.privateKey);
  return { ...key, alg, privateKey: (await importJWK(privateJwk, alg)) as CryptoKey };
}

export interface MintOptions {
  readonly key?: TestKey;
  /** Claims merged over the defaults; `undefined` values remove a default claim. */
  readonly claims?: Record<string, unknown>;
  /** Header members merged over `{ alg, kid }`. */
  readonly header?: Record<string, unknown>;
  /** Token time in epoch seconds. Default: now. */
  readonly at?: number;
}

/**
 * One tenant of the loopback dev issuer: a real HTTP issuer of its own (discovery, JWKS,
 * counters, failure modes). The private keys stay in the test, which signs tokens with jose.
 */
export class TestIssuer {
  readonly url: string;
  readonly jwksUri: string;

  private constructor(
    public keys: TestKey[],
    readonly id: string,
  ) {
    this.url = `${inject('issuerUrl')}/t/${id}`;
    this.jwksUri = `${this.url}/jwks`;
  }

  /** A tenant of its own; `id` names a tenant fixed elsewhere (a Worker configured in the global setup). */
  static async create(algs: string[] = ['RS256'], id = crypto.randomUUID().slice(0, 12)): Promise<TestIssuer> {
    const issuer = new TestIssuer(await Promise.all(algs.map((alg) => makeKey(alg))), id);
    await issuer.publish();
    return issuer;
  }

  get key(): TestKey {
    return this.keys[0] as TestKey;
  }

  /** Serves these keys (or any JWKS document) from now on. */
  async publish(document: unknown = { keys: this.keys.map((k) => k.publicJwk) }, cacheControl?: string): Promise<void> {
    const query = cacheControl ? `?cache-control=${encodeURIComponent(cacheControl)}` : '';
    const response = await fetch(`${this.jwksUri}${query}`, { method: 'PUT', body: JSON.stringify(document) });
    if (response.status !== 204) throw new Error(`publish failed: ${response.status}`);
  }

  async setMode(
    mode: 'ok' | 'error500' | 'hang' | 'html' | 'redirect-offhost' | 'redirect-samehost' | 'huge',
  ): Promise<void> {
    await fetch(`${this.url}/mode`, { method: 'PUT', body: mode });
  }

  /** Publish metadata only at the RFC 8414 location, as a plain OAuth server would. */
  async useRfc8414Metadata(): Promise<void> {
    await fetch(`${this.url}/metadata`, { method: 'PUT', body: 'rfc8414' });
  }

  /** The introspection endpoint answers this token active, with these members. */
  async introspectable(token: string, members: Record<string, unknown>): Promise<void> {
    await fetch(`${this.url}/introspectable`, { method: 'PUT', body: JSON.stringify({ token, members }) });
  }

  /** The introspection endpoint answers this token inactive from now on. */
  async revoke(token: string): Promise<void> {
    await fetch(`${this.url}/revoke`, { method: 'POST', body: new URLSearchParams({ token }) });
  }

  async setIntrospectionMode(
    mode: 'ok' | 'error500' | 'hang' | 'html' | 'status429' | 'status400' | 'slow',
  ): Promise<void> {
    await fetch(`${this.url}/introspection-mode`, { method: 'PUT', body: mode });
  }

  get introspectionEndpoint(): string {
    return `${this.url}/introspect`;
  }

  async stats(): Promise<{ jwksFetches: number; discoveryFetches: number; introspectionCalls: number }> {
    return (await fetch(`${this.url}/stats`)).json();
  }

  async mint(options: MintOptions = {}): Promise<string> {
    const key = options.key ?? this.key;
    const at = options.at ?? Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: this.url,
      aud: AUDIENCE,
      sub: 'user-1',
      iat: at,
      exp: at + 300,
      scope: 'read write',
      ...options.claims,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return new SignJWT(claims as JWTPayload)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, ...options.header } as { alg: string })
      .sign(key.privateKey);
  }
}
