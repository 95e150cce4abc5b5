import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64urlToBytes, base64urlToBytesInJs } from '../src/shared/base64url.ts';
import { b64url } from './security/harness.ts';

describe('base64url decoding', () => {
  it('decodes every length, natively and in JS alike (the JS path serves runtimes without Uint8Array.fromBase64)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.string({ unit: 'grapheme-ascii', maxLength: 5 }),
        (bytes, pad) => {
          const encoded = b64url(bytes);
          const framed = `${pad}.${encoded}.`;
          const start = pad.length + 1;
          const end = start + encoded.length;
          expect(base64urlToBytesInJs(encoded)).toEqual(bytes);
          expect(base64urlToBytesInJs(framed, start, end)).toEqual(bytes);
          expect(base64urlToBytes(framed, start, end)).toEqual(bytes);
        },
      ),
      { seed: 20_261_201, numRuns: 2_000 },
    );
  });
});
