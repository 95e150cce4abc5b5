import { describe, expect, it } from 'vitest';
import { ERROR_SPECS } from '../src/errors.ts';
import { buildChallenge } from '../src/http/challenge.ts';

describe('WWW-Authenticate challenge (RFC 6750 §3)', () => {
  it('has only the realm when no error is given', () => {
    expect(buildChallenge({ realm: 'api' })).toBe('Bearer realm="api"');
  });

  it('quotes error, description and scope', () => {
    expect(
      buildChallenge({
        realm: 'api',
        error: 'insufficient_scope',
        errorDescription: 'insufficient scope',
        scope: 'a b',
      }),
    ).toBe('Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="a b"');
  });

  it('escapes quotes and backslashes and drops control characters', () => {
    expect(buildChallenge({ realm: 'a"b\\c\r\nd' })).toBe('Bearer realm="a\\"b\\\\cd"');
  });

  it('keeps every fixed description inside the RFC 6750 character set', () => {
    for (const spec of Object.values(ERROR_SPECS)) {
      expect(spec.description).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/);
    }
  });
});
