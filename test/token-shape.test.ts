import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PARSED_HEADER_CACHE_MAX_ENTRIES } from '../src/constants.ts';
import { VerifierError } from '../src/errors.ts';
import { parseTokenShape } from '../src/token/token-shape.ts';
import { b64url } from './security/harness.ts';

const PAYLOAD = b64url('{"sub":"alice","exp":2000000000}');
const SIGNATURE = b64url(new Uint8Array(256).map((_, i) => i));
const tokenWith = (header: string, signature = SIGNATURE) => `${b64url(header)}.${PAYLOAD}.${signature}`;

describe('token shape: the signature segment', () => {
  it('hands on the signature bytes it decoded', () => {
    expect(parseTokenShape(tokenWith('{"alg":"RS256"}')).signature).toEqual(new Uint8Array(256).map((_, i) => i));
  });

  it('refuses a signature with anything a base64 decoder skips or accepts, wherever it stands', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 96 }),
        fc.constantFrom(' ', '\t', '\n', '\r', '\f', '=', '+', '/', '.', 'é', '\u00a0'),
        fc.nat(),
        (bytes, stray, at) => {
          const signature = b64url(bytes);
          const position = at % (signature.length + 1);
          const token = tokenWith('{"alg":"RS256"}', signature.slice(0, position) + stray + signature.slice(position));
          expect(() => parseTokenShape(token)).toThrow(VerifierError);
        },
      ),
      { seed: 20_261_207, numRuns: 2_000 },
    );
  });
});

describe('token shape: protected headers', () => {
  it('parses a flat header once: the same text gives the same frozen object', () => {
    const first = parseTokenShape(tokenWith('{"alg":"RS256","kid":"same"}')).header;
    const again = parseTokenShape(tokenWith('{"alg":"RS256","kid":"same"}', b64url('other'))).header;
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(first).toEqual({ alg: 'RS256', kid: 'same' });
  });

  it('keeps no header that holds an object (a DPoP proof’s jwk is one per client)', () => {
    const header = '{"alg":"ES256","jwk":{"kty":"EC"}}';
    expect(parseTokenShape(tokenWith(header)).header).not.toBe(parseTokenShape(tokenWith(header)).header);
  });

  it(`holds at most ${PARSED_HEADER_CACHE_MAX_ENTRIES} headers: a spray of new ones drops what it held`, () => {
    const kept = parseTokenShape(tokenWith('{"alg":"RS256","kid":"kept"}')).header;
    for (let i = 0; i < PARSED_HEADER_CACHE_MAX_ENTRIES; i++)
      parseTokenShape(tokenWith(`{"alg":"RS256","kid":"${i}"}`));
    expect(parseTokenShape(tokenWith('{"alg":"RS256","kid":"kept"}')).header).not.toBe(kept);
  });

  it('refuses a duplicate or b64 member the same way the first time and every time after', () => {
    for (const header of ['{"alg":"RS256","alg":"none"}', '{"alg":"RS256","b64":false}']) {
      for (let i = 0; i < 3; i++) expect(() => parseTokenShape(tokenWith(header))).toThrow(VerifierError);
    }
  });
});
