import { describe, expect, it } from 'vitest';
import { extractCredentials, isB64token } from '../src/credentials/authorization.ts';
import { VerifierError } from '../src/errors.ts';

/** The header parse, then the b64token grammar the verifier applies to a token that failed. */
function codeOf(header: string | null): string {
  try {
    return isB64token(extractCredentials(header).token) ? 'ok' : 'malformed_authorization';
  } catch (error) {
    return (error as VerifierError).code;
  }
}

describe('Authorization header parsing (RFC 6750 §2.1)', () => {
  it('returns the token of a Bearer header, with the scheme in any case', () => {
    expect(extractCredentials('Bearer abc.def-ghi_jkl~+/==').token).toBe('abc.def-ghi_jkl~+/==');
    expect(extractCredentials('bearer a.b.c').token).toBe('a.b.c');
    expect(extractCredentials('BEARER   a.b.c').token).toBe('a.b.c');
  });

  it('reads a DPoP header (RFC 9449 §7.1) with its scheme, in any case; two values are still malformed', () => {
    expect(extractCredentials('DPoP a.b.c')).toMatchObject({ scheme: 'dpop', token: 'a.b.c' });
    expect(extractCredentials('dpop a.b.c')).toMatchObject({ scheme: 'dpop', token: 'a.b.c' });
    expect(extractCredentials('Bearer a.b.c')).toMatchObject({ scheme: 'bearer', token: 'a.b.c' });
    expect(() => extractCredentials('Basic eA==, DPoP a.b.c')).toThrow('malformed');
  });

  it.each([
    [null, 'missing_token'],
    ['Basic dXNlcjpwYXNz', 'unsupported_scheme'],
    ['Bearer', 'malformed_authorization'],
    ['Bearer ', 'malformed_authorization'],
    ['', 'malformed_authorization'],
    ['Bearer a.b.c, Bearer d.e.f', 'malformed_authorization'],
    ['Basic eA==, Bearer d.e.f', 'malformed_authorization'],
    ['Bearer a b', 'malformed_authorization'],
    ['Bearer a\tb', 'malformed_authorization'],
    ['Bearer a=b', 'malformed_authorization'],
    ['Bearer "a.b.c"', 'malformed_authorization'],
    ['Bearer\ta.b.c', 'malformed_authorization'],
    ['Bearer a.b.c', 'ok'],
    ['Bearer a.b.c==', 'ok'],
    [`Bearer ${'a'.repeat(16 * 1024 + 1)}`, 'token_too_large'],
  ])('%j gives %s', (header, code) => {
    expect(codeOf(header)).toBe(code);
  });

  it('throws VerifierError only', () => {
    expect(() => extractCredentials('Bearer').token).toThrow(VerifierError);
  });
});
