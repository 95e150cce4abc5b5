import { describe, expect, it } from 'vitest';
import { VerifierError } from '../../src/errors.ts';
import { normalizePath } from '../../src/routing/normalize-path.ts';

/** The path as the Worker sees it: through the URL parser first, as every request is. */
function normalized(raw: string, mergeSlashes = true) {
  return normalizePath(new URL(`https://api.example.test${raw}`).pathname, { mergeSlashes });
}

function refusal(raw: string, mergeSlashes = true): string | undefined {
  try {
    normalized(raw, mergeSlashes);
    return undefined;
  } catch (error) {
    if (error instanceof VerifierError) return error.code;
    throw error;
  }
}

describe('normalizePath', () => {
  it.each([
    // [sent, matched and forwarded, holds an encoded separator, holds a path parameter]
    ['/api/items/1', '/api/items/1', false, false],
    ['/', '/', false, false],
    ['/api/items/', '/api/items/', false, false],
    ['/%61dmin/x', '/admin/x', false, false],
    ['/adm%69n/x', '/admin/x', false, false],
    ['/%41%5a%30%2D%5F%7e', '/AZ0-_~', false, false],
    ['/files/my%20doc.pdf', '/files/my%20doc.pdf', false, false],
    ['/a%3a%2cb', '/a%3A%2Cb', false, false],
    ['/caf%c3%a9', '/caf%C3%A9', false, false],
    ['/ADMIN/x', '/ADMIN/x', false, false],
    ['//admin/x', '/admin/x', false, false],
    ['/admin//x//', '/admin/x/', false, false],
    ['/public/../admin/x', '/admin/x', false, false],
    ['/public/%2e%2e/admin/x', '/admin/x', false, false],
    ['/public/%2E%2e/admin/x', '/admin/x', false, false],
    ['/public/.%2e/admin/x', '/admin/x', false, false],
    ['/public\\..\\admin', '/admin', false, false],
    ['/a/b/%2e', '/a/b/', false, false],
    ['/.well-known/x', '/.well-known/x', false, false],
    ['/public/..;/admin/x', '/public/..;/admin/x', false, true],
    ['/admin;jsessionid=1/x', '/admin;jsessionid=1/x', false, true],
    ['/api/x/..%2Fadmin', '/api/x/..%2Fadmin', true, false],
    ['/public/%2e%2e%2fadmin', '/public/..%2Fadmin', true, false],
    ['/a%5cb', '/a%5Cb', true, false],
  ])('%s → %s', (sent, path, encodedSlash, pathParameters) => {
    expect(normalized(sent)).toEqual({ path, encodedSlash, pathParameters });
  });

  it.each([
    ['/admin%00/x'],
    ['/admin%01'],
    ['/admin%09/x'],
    ['/admin%0d%0a/x'],
    ['/admin%7F/x'],
    ['/admin%20/x'],
    ['/%20admin/x'],
    ['/admin./x'],
    ['/x/admin.'],
    ['/admin%2e/x'],
    ['/admin.../x'],
    ['/a%zz'],
    ['/a%4'],
    ['/a%'],
  ])('%s is refused as malformed_path', (sent) => {
    expect(refusal(sent)).toBe('malformed_path');
  });

  it('keeps empty segments when merge_slashes is false', () => {
    expect(normalized('//admin/x', false).path).toBe('//admin/x');
    expect(normalized('/a//b/', false).path).toBe('/a//b/');
  });

  it('leaves an ordinary path untouched without building a new string', () => {
    const pathname = '/api/v1/items/42';
    expect(normalizePath(pathname, { mergeSlashes: true }).path).toBe(pathname);
  });
});
