import { VerifierError } from '../errors.ts';

/**
 * The request path in the one form that routes match and the origin receives, so an origin
 * that decodes, trims or merges cannot read another path than the one that was authorised
 * (Envoy's `normalize_path` + `merge_slashes`, forwarded as normalised).
 */
export interface NormalizedPath {
  /** What routes match and what the origin receives: starts with `/`, no dot segments, no encoded unreserved characters. */
  readonly path: string;
  /**
   * It holds an encoded `/` or `\` (`%2F`, `%5C`): an origin may decode it into a separator, so
   * no path pattern matches it (only the flat variables' catch-all, which guards every path alike).
   */
  readonly encodedSlash: boolean;
  /**
   * A segment holds `;`: servlet containers (Tomcat, Jetty, Spring) read `/a;x/..;/b` as
   * `/a/../b`, so such a path is refused unless the route's `path_parameters` is `keep`.
   */
  readonly pathParameters: boolean;
}

export interface PathNormalization {
  /** Merge `//` into `/` (default true); false keeps empty segments and matches them literally. */
  readonly mergeSlashes: boolean;
}

/**
 * Whether the path needs the slow path: a character outside visible ASCII (a raw control
 * character or space), a percent-encoding, `;`, an empty segment, or a segment ending with `.`
 * (`/.` and `/..` the URL parser has resolved already, so this finds `a.`). A loop over the
 * character codes: a regular expression over the runtime's fresh `pathname` string cost about
 * five times as much per request.
 */
function needsWork(path: string): boolean {
  let previous = 0;
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code < 0x21 || code > 0x7e || code === 0x25 || code === 0x3b) return true;
    if (code === 0x2f && (previous === 0x2f || previous === 0x2e)) return true;
    previous = code;
  }
  return previous === 0x2e;
}

/** RFC 3986 §2.3 unreserved characters. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

const HEX = '0123456789ABCDEF';
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;

/**
 * `pathname` as `new URL(...)` gives it (ASCII, dot segments resolved, `\` read as `/`). Throws
 * 400 `malformed_path` for a path an origin could read two ways: a control character (raw or
 * encoded), a broken percent-encoding, a segment that begins or ends with a space or ends with
 * `.` (origins that trim them read another path). Spaces inside a segment stay legal.
 */
export function normalizePath(pathname: string, { mergeSlashes }: PathNormalization): NormalizedPath {
  // An ordinary path costs one regular-expression test.
  if (!needsWork(pathname)) return { path: pathname, encodedSlash: false, pathParameters: false };
  const raw = pathname.split('/');
  const out: string[] = [];
  let encodedSlash = false;
  let pathParameters = false;
  for (let i = 1; i < raw.length; i++) {
    const last = i === raw.length - 1;
    const segment = decodeUnreserved(raw[i] as string);
    if (segment.encodedSlash) encodedSlash = true;
    const text = segment.text;
    if (text === '' && !last && mergeSlashes) continue;
    if (text === '.' || text === '..') {
      // RFC 3986 §5.2.4, after the decoding, so `%2e%2e` is `..`.
      if (text === '..') out.pop();
      if (last) out.push('');
      continue;
    }
    if (text.startsWith('%20') || text.endsWith('%20') || text.endsWith('.')) {
      throw new VerifierError('malformed_path');
    }
    if (text.includes(';')) pathParameters = true;
    out.push(text);
  }
  return { path: `/${out.join('/')}`, encodedSlash, pathParameters };
}

/**
 * One segment with its percent-encoded unreserved characters decoded (RFC 3986 §6.2.2.2) and
 * every other encoding kept, upper-cased (§6.2.2.1).
 */
function decodeUnreserved(segment: string): { readonly text: string; readonly encodedSlash: boolean } {
  let text = '';
  let encodedSlash = false;
  for (let i = 0; i < segment.length; i++) {
    const code = segment.charCodeAt(i);
    if (code <= 0x20 || code === 0x7f) throw new VerifierError('malformed_path');
    if (code !== 0x25) {
      text += segment[i];
      continue;
    }
    const hex = segment.slice(i + 1, i + 3);
    if (!HEX_PAIR.test(hex)) throw new VerifierError('malformed_path');
    const byte = Number.parseInt(hex, 16);
    i += 2;
    if (byte < 0x20 || byte === 0x7f) throw new VerifierError('malformed_path');
    const char = String.fromCharCode(byte);
    if (UNRESERVED.test(char)) {
      text += char;
      continue;
    }
    if (byte === 0x2f || byte === 0x5c) encodedSlash = true;
    text += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return { text, encodedSlash };
}
