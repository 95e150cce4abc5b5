import { describe, expect, it } from 'vitest';
import {
  IDENTITY_SIGNATURE_HEADER,
  importIdentityKey,
  signIdentity,
  verifyIdentitySignature,
} from '../src/identity/signature.ts';

const SECRET = 's3cret';
const SIGNED_AT = 1_700_000_000;
const ORIGIN = 'https://origin.example';
const PATH_AND_QUERY = '/base/items?x=1';
const IDENTITY: readonly (readonly [string, string])[] = [
  ['x-auth-subject', 'alice'],
  ['x-auth-claims', 'eyJzdWIiOiJhbGljZSJ9'],
  ['x-user-email', 'a@example.com'],
];
const NAMES = IDENTITY.map(([name]) => name);

interface Forwarded {
  readonly method?: string;
  readonly pathAndQuery?: string;
  readonly headers?: readonly (readonly [string, string])[];
}

async function sign(at = SIGNED_AT, forwarded: Forwarded = {}, secret = SECRET): Promise<string> {
  return signIdentity(await importIdentityKey(secret), {
    timestamp: at,
    method: forwarded.method ?? 'GET',
    pathAndQuery: forwarded.pathAndQuery ?? PATH_AND_QUERY,
    headers: forwarded.headers ?? IDENTITY,
  });
}

/** The request as the origin receives it, carrying `signature` unless it is `null`. */
function received(signature: string | null, forwarded: Forwarded = {}): Request {
  const headers = new Headers(forwarded.headers ?? IDENTITY);
  if (signature !== null) headers.set(IDENTITY_SIGNATURE_HEADER, signature);
  return new Request(`${ORIGIN}${forwarded.pathAndQuery ?? PATH_AND_QUERY}`, {
    method: forwarded.method ?? 'GET',
    headers,
  });
}

function verifyAt(seconds: number, request: Request, options: { maxAgeSeconds?: number } = {}, secret = SECRET) {
  return verifyIdentitySignature(request, secret, { ...options, now: () => seconds * 1000 });
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** The three members of a signature value, to rebuild it with one of them changed. */
function members(signature: string): { t: string; h: string; v1: string } {
  const match = /^t=([^,]*),h=(.*),v1=([^,]*)$/.exec(signature);
  if (match === null) throw new Error(`not a signature value: ${signature}`);
  return { t: match[1] ?? '', h: match[2] ?? '', v1: match[3] ?? '' };
}

const MISMATCH = { valid: false, reason: 'mismatch' };
const EXPIRED = { valid: false, reason: 'expired' };
const MALFORMED = { valid: false, reason: 'malformed' };

describe('identity signature', () => {
  it('pins the format: HMAC-SHA256 over the documented lines, base64url without padding', async () => {
    const text = new TextEncoder();
    const key = await crypto.subtle.importKey('raw', text.encode('s3cret'), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    const lines = 'v1\n1700000000\nGET\n/base/items?x=1\nx-auth-subject:alice\nx-user-email:a@example.com';
    const expected = base64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, text.encode(lines))));

    const value = await signIdentity(await importIdentityKey('s3cret'), {
      timestamp: 1700000000,
      method: 'GET',
      pathAndQuery: '/base/items?x=1',
      headers: [
        ['x-auth-subject', 'alice'],
        ['x-user-email', 'a@example.com'],
      ],
    });
    expect(value).toBe(`t=1700000000,h=x-auth-subject,x-user-email,v1=${expected}`);
  });

  it('imports the secret as a non-extractable HMAC-SHA256 key for signing and verifying', async () => {
    const key = await importIdentityKey(SECRET);
    expect(key.extractable).toBe(false);
    expect(key.algorithm).toMatchObject({ name: 'HMAC', hash: { name: 'SHA-256' } });
    expect([...key.usages].sort()).toEqual(['sign', 'verify']);
  });

  it('accepts what the gateway signed and reports the time and the signed header names in order', async () => {
    const result = await verifyAt(SIGNED_AT, received(await sign()));
    expect(result).toEqual({ valid: true, timestamp: SIGNED_AT, headers: NAMES });
  });

  it('signs a path without a query as the path alone', async () => {
    const forwarded = { pathAndQuery: '/base/items' };
    const signature = await sign(SIGNED_AT, forwarded);
    expect(await verifyAt(SIGNED_AT, received(signature, forwarded))).toMatchObject({ valid: true });
    expect(await verifyAt(SIGNED_AT, received(signature, { pathAndQuery: '/base/items?x=1' }))).toEqual(MISMATCH);
  });

  it('signs a request with no identity headers with an empty h', async () => {
    const forwarded = { headers: [] };
    const signature = await sign(SIGNED_AT, forwarded);
    expect(members(signature).h).toBe('');
    expect(await verifyAt(SIGNED_AT, received(signature, forwarded))).toEqual({
      valid: true,
      timestamp: SIGNED_AT,
      headers: [],
    });
  });

  it('does not report an identity header the signature does not name', async () => {
    const signature = await sign(SIGNED_AT, { headers: IDENTITY.slice(0, 1) });
    const result = await verifyAt(SIGNED_AT, received(signature));
    expect(result).toEqual({ valid: true, timestamp: SIGNED_AT, headers: ['x-auth-subject'] });
  });

  describe('fails as mismatch', () => {
    it.each<[string, Forwarded]>([
      ['the path changes', { pathAndQuery: '/base/other?x=1' }],
      ['the query changes', { pathAndQuery: '/base/items?x=2' }],
      ['the query is dropped', { pathAndQuery: '/base/items' }],
      ['the method changes', { method: 'DELETE' }],
      ['a signed header value changes', { headers: [['x-auth-subject', 'mallory'], ...IDENTITY.slice(1)] }],
      ['a signed header is removed', { headers: IDENTITY.slice(1) }],
    ])('when %s', async (_, changed) => {
      const signature = await sign();
      expect(await verifyAt(SIGNED_AT, received(signature))).toMatchObject({ valid: true });
      expect(await verifyAt(SIGNED_AT, received(signature, changed))).toEqual(MISMATCH);
    });

    it('when a signed header with an empty value is removed', async () => {
      const forwarded = { headers: [['x-auth-subject', '']] as const };
      const signature = await sign(SIGNED_AT, forwarded);
      expect(await verifyAt(SIGNED_AT, received(signature, forwarded))).toMatchObject({ valid: true });
      expect(await verifyAt(SIGNED_AT, received(signature, { headers: [] }))).toEqual(MISMATCH);
    });

    it('when t is changed in the header', async () => {
      const { h, v1 } = members(await sign());
      const moved = `t=${SIGNED_AT + 1},h=${h},v1=${v1}`;
      expect(await verifyAt(SIGNED_AT, received(moved))).toEqual(MISMATCH);
    });

    it('when a name is dropped from h', async () => {
      const { t, v1 } = members(await sign());
      const fewer = `t=${t},h=${NAMES.slice(1).join(',')},v1=${v1}`;
      expect(await verifyAt(SIGNED_AT, received(fewer))).toEqual(MISMATCH);
    });

    it('when the origin holds another secret', async () => {
      const request = received(await sign());
      expect(await verifyAt(SIGNED_AT, request, {}, `${SECRET}!`)).toEqual(MISMATCH);
    });
  });

  describe('age', () => {
    it('accepts a signature up to 300 s old by default and refuses it beyond as expired', async () => {
      const request = received(await sign());
      expect(await verifyAt(SIGNED_AT + 300, request)).toMatchObject({ valid: true });
      expect(await verifyAt(SIGNED_AT + 301, request)).toEqual(EXPIRED);
    });

    it('honours maxAgeSeconds', async () => {
      const request = received(await sign());
      expect(await verifyAt(SIGNED_AT + 10, request, { maxAgeSeconds: 10 })).toMatchObject({ valid: true });
      expect(await verifyAt(SIGNED_AT + 11, request, { maxAgeSeconds: 10 })).toEqual(EXPIRED);
    });

    it('accepts a signature up to 60 s in the future and refuses one further ahead as expired', async () => {
      const request = received(await sign());
      expect(await verifyAt(SIGNED_AT - 60, request)).toMatchObject({ valid: true });
      expect(await verifyAt(SIGNED_AT - 61, request)).toEqual(EXPIRED);
    });

    it.each([Number.NaN, Number.POSITIVE_INFINITY, -1])('refuses maxAgeSeconds %s with a TypeError', async (bad) => {
      const request = received(await sign());
      await expect(verifyAt(SIGNED_AT, request, { maxAgeSeconds: bad })).rejects.toThrow(
        new TypeError('maxAgeSeconds must be a finite, non-negative number of seconds'),
      );
    });
  });

  it('reports missing when the request has no signature header', async () => {
    expect(await verifyAt(SIGNED_AT, received(null))).toEqual({ valid: false, reason: 'missing' });
  });

  describe('fails as malformed', () => {
    const variants: [string, (m: { t: string; h: string; v1: string }) => string][] = [
      ['h is missing', ({ t, v1 }) => `t=${t},v1=${v1}`],
      ['t is missing', ({ h, v1 }) => `h=${h},v1=${v1}`],
      ['v1 is missing', ({ t, h }) => `t=${t},h=${h}`],
      ['members are reordered', ({ t, h, v1 }) => `h=${h},t=${t},v1=${v1}`],
      ['a member is added', ({ t, h, v1 }) => `t=${t},h=${h},v1=${v1},v2=${v1}`],
      ['members are spaced', ({ t, h, v1 }) => `t=${t}, h=${h}, v1=${v1}`],
      ['v1 is padded', ({ t, h, v1 }) => `t=${t},h=${h},v1=${v1}=`],
      ['v1 holds a base64 character outside base64url', ({ t, h, v1 }) => `t=${t},h=${h},v1=+${v1.slice(1)}`],
      ['v1 has stray bits in its last character', ({ t, h, v1 }) => `t=${t},h=${h},v1=${v1.slice(0, -1)}B`],
      ['v1 is truncated', ({ t, h, v1 }) => `t=${t},h=${h},v1=${v1.slice(0, -1)}`],
      ['a name is upper case', ({ t, h, v1 }) => `t=${t},h=${h.replace('x-auth-subject', 'X-Auth-Subject')},v1=${v1}`],
      ['a name is listed twice', ({ t, h, v1 }) => `t=${t},h=${h},x-auth-subject,v1=${v1}`],
      ['h has an empty name', ({ t, h, v1 }) => `t=${t},h=${h},,v1=${v1}`],
      ['t is not a number', ({ h, v1 }) => `t=abc,h=${h},v1=${v1}`],
      ['t has a leading zero', ({ t, h, v1 }) => `t=0${t},h=${h},v1=${v1}`],
      ['t has a sign', ({ t, h, v1 }) => `t=+${t},h=${h},v1=${v1}`],
      ['t has a fraction', ({ t, h, v1 }) => `t=${t}.0,h=${h},v1=${v1}`],
      ['t is beyond 2^53', ({ h, v1 }) => `t=${'9'.repeat(20)},h=${h},v1=${v1}`],
    ];

    it.each(variants)('when %s', async (_, rewrite) => {
      const signature = await sign();
      expect(await verifyAt(SIGNED_AT, received(signature))).toMatchObject({ valid: true });
      expect(await verifyAt(SIGNED_AT, received(rewrite(members(signature))))).toEqual(MALFORMED);
    });

    it('when the header is empty', async () => {
      expect(await verifyAt(SIGNED_AT, received(''))).toEqual(MALFORMED);
    });
  });
});
