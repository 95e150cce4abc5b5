import { describe, expect, it } from 'vitest';
import { TestIssuer } from '../helpers/issuer.ts';
import { Target } from './harness.ts';

type Mode = 'ok' | 'error500' | 'hang' | 'html' | 'redirect-offhost' | 'huge';

const randomKid = () => crypto.randomUUID();

describe('refresh abuse', () => {
  it('1,000 tokens with random kids over 300 s cost at most one fetch per 30 s cooldown, and valid tokens keep working', async () => {
    const issuer = await TestIssuer.create();
    const target = new Target(issuer);
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
});
