import { afterEach, describe, expect, it, vi } from 'vitest';
import { createKeyIndex } from '../../src/keys/remote/key-index.ts';
import { TestIssuer } from '../helpers/issuer.ts';
import { Target } from './harness.ts';

type Mode = 'ok' | 'error500' | 'hang' | 'html' | 'redirect-offhost' | 'huge';

const randomKid = () => crypto.randomUUID();

afterEach(() => {
  vi.restoreAllMocks();
});

describe('refresh abuse', () => {
  it('1,000 tokens with random kids over 300 s cost at most one fetch per 30 s cooldown, and valid tokens keep working', async () => {
    const issuer = await TestIssuer.create();
    // A made-up kid near the end of a cooldown waits for it (UNKNOWN_KID_WAIT_MAX_MS): on the test's clock.
    const target = new Target(issuer, {}, { virtualTimers: true });
    await target.expectAccepted(await target.sendToken(await issuer.mint({ at: target.nowSeconds })));
    for (let i = 0; i < 1_000; i++) {
      target.advance(0.3);
      const token = await issuer.mint({ at: target.nowSeconds, header: { kid: randomKid() } });
      await target.expectRefused(await target.sendToken(token), 'unknown_kid');
    }
    // 1 cold fetch + one per elapsed 30 s window (300 s → 10).
    expect(target.jwksFetches()).toBeLessThanOrEqual(11);
    expect(target.jwksFetches()).toBeGreaterThanOrEqual(10);
    await target.expectAccepted(await target.sendToken(await issuer.mint({ at: target.nowSeconds })));
  });

  it.each<[string, unknown]>([
    ['an empty key set', { keys: [] }],
    ['a key set of only unusable keys', { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }],
  ])('keeps its keys while the issuer answers %s to a flood of unknown kids', async (_name, document) => {
    const issuer = await TestIssuer.create();
    const target = new Target(issuer);
    await target.expectAccepted(await target.sendToken(await issuer.mint({ at: target.nowSeconds })));
    await issuer.publish(document);
    for (let i = 0; i < 200; i++) {
      target.advance(1);
      const token = await issuer.mint({ at: target.nowSeconds, header: { kid: randomKid() } });
      await target.expectRefused(await target.sendToken(token), 'unknown_kid');
    }
    expect(target.jwksFetches()).toBeLessThanOrEqual(1 + Math.ceil(200 / 30));
    await target.expectAccepted(await target.sendToken(await issuer.mint({ at: target.nowSeconds })));
  });

  it.each<Mode>(['error500', 'html', 'redirect-offhost', 'huge'])(
    'fails closed on a refresh answered with %s and keeps the cached keys',
    async (mode) => {
      const issuer = await TestIssuer.create();
      const target = new Target(issuer);
      await target.expectAccepted(await target.sendToken(await issuer.mint({ at: target.nowSeconds })));
      await issuer.setMode(mode);
      for (let i = 0; i < 100; i++) {
        target.advance(3);
        const token = await issuer.mint({ at: target.nowSeconds, header: { kid: randomKid() } });
        await target.expectRefused(await target.sendToken(token), 'unknown_kid');
        await target.expectAccepted(await target.sendToken(await issuer.mint({ at: target.nowSeconds })));
      }
      // 300 s of floods: one fetch per 30 s window at most, plus the cold one.
      expect(target.jwksFetches()).toBeLessThanOrEqual(11);
      expect(target.fetched.some((url) => url.startsWith('http://localhost'))).toBe(false);
    },
  );

  it('keeps serving valid tokens while a refresh hangs, with one fetch for a concurrent flood', async () => {
    const issuer = await TestIssuer.create();
    const target = new Target(issuer);
    await target.expectAccepted(await target.sendToken(await issuer.mint({ at: target.nowSeconds })));
    await issuer.setMode('hang');
    target.advance(31);
    const flood = Array.from(
      { length: 100 },
      async () =>
        (await target.sendToken(await issuer.mint({ at: target.nowSeconds, header: { kid: randomKid() } }))).status,
    );
    const started = Date.now();
    await target.expectAccepted(await target.sendToken(await issuer.mint({ at: target.nowSeconds })));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(new Set(await Promise.all(flood))).toEqual(new Set([401]));
    expect(target.jwksFetches()).toBe(2);
    expect((await issuer.stats()).jwksFetches).toBe(2);
  }, 20_000);

  it('100,000 random kids against the key index import nothing; its imports stay one per (key, alg)', async () => {
    const issuer = await TestIssuer.create(['RS256', 'ES256', 'EdDSA']);
    // The RSA key without its own `alg`, so that it fits RS256 and PS256 alike.
    const { alg: _alg, ...rsa } = issuer.key.publicJwk;
    const index = createKeyIndex([rsa, ...issuer.keys.slice(1).map((k) => k.publicJwk)]);
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    const algs = ['RS256', 'PS256', 'ES256', 'EdDSA'];
    let found = 0;
    for (let i = 0; i < 100_000; i++) {
      if (index.find({ alg: algs[i % algs.length] as string, kid: randomKid() }) !== undefined) found++;
    }
    expect(found).toBe(0);
    expect(importKey).not.toHaveBeenCalled();
    // The set's own keys, each looked up many times under every alg that fits: one import per pair.
    for (let i = 0; i < 1_000; i++) {
      for (const key of issuer.keys) await index.find({ alg: key.alg, kid: key.kid });
      await index.find({ alg: 'PS256', kid: issuer.key.kid });
    }
    expect(importKey).toHaveBeenCalledTimes(issuer.keys.length + 1);
  });

  it('3,000 random kids through one isolate cost one fetch and import no key', async () => {
    const issuer = await TestIssuer.create();
    const target = new Target(issuer);
    await target.expectAccepted(await target.sendToken(await issuer.mint({ at: target.nowSeconds })));
    const [, payload, signature] = (await issuer.mint({ at: target.nowSeconds })).split('.');
    const importKey = vi.spyOn(crypto.subtle, 'importKey');
    const statuses = new Set<number>();
    for (let i = 0; i < 3_000; i++) {
      // The lookup fails before any signature check, so a real signature over another header does.
      const header = btoa(JSON.stringify({ alg: 'RS256', kid: randomKid() })).replace(/=+$/, '');
      statuses.add((await target.sendToken(`${header}.${payload}.${signature}`)).status);
    }
    expect(statuses).toEqual(new Set([401]));
    await target.expectRefused(
      await target.sendToken(await issuer.mint({ at: target.nowSeconds, header: { kid: randomKid() } })),
      'unknown_kid',
    );
    expect(target.jwksFetches()).toBe(1);
    expect(importKey).not.toHaveBeenCalled();
    await target.expectAccepted(await target.sendToken(await issuer.mint({ at: target.nowSeconds })));
  });
});
