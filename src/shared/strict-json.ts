const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * A JSON object with no member named twice at any depth and no nesting deeper than `maxDepth`;
 * `undefined` otherwise. Two parsers that disagree on `{"active":false,"active":true}` is an
 * attack, so such text is refused rather than read one way.
 */
export function parseStrictJsonObject(text: string, maxDepth: number): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  // JSON.parse keeps one member per name, so the text has duplicates exactly when it names more
  // members than the parsed value holds; "\u0061lg" and "alg" are one name to both counts.
  const written = writtenMembers(text, maxDepth);
  if (written < 0 || written !== parsedMembers(value)) return undefined;
  return value as Record<string, unknown>;
}

/**
 * Member names written in `text`, or -1 when nesting goes deeper than `maxDepth`. Scans text
 * that `JSON.parse` has already accepted, so it can trust the syntax; no allocation.
 */
function writtenMembers(text: string, maxDepth: number): number {
  let depth = 0;
  /** Bit d is set when the container at depth d is an object. */
  let objects = 0;
  let expectKey = false;
  let members = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === QUOTE) {
      if (expectKey) members++;
      expectKey = false;
      i = closingQuote(text, i);
    } else if (code === 0x7b /* { */ || code === 0x5b /* [ */) {
      if (++depth > maxDepth) return -1;
      if (code === 0x7b) objects |= 1 << depth;
      else objects &= ~(1 << depth);
      expectKey = code === 0x7b;
    } else if (code === 0x7d /* } */ || code === 0x5d /* ] */) {
      depth--;
      expectKey = false;
    } else if (code === 0x2c /* , */) {
      expectKey = ((objects >> depth) & 1) === 1;
    }
  }
  return members;
}

/** Index of the quote that closes the string opened at `open`. */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1);
  for (;;) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = text.indexOf('"', at + 1);
  }
}

/** Members JSON.parse kept, counted through every nested object and array. */
function parsedMembers(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) count += parsedMembers(item);
    return count;
  }
  const record = value as Record<string, unknown>;
  for (const name of Object.keys(record)) count += 1 + parsedMembers(record[name]);
  return count;
}
