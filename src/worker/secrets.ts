/**
 * The one way the Worker reads its secrets and bindings by name: every secret the policy names
 * (decryption keys, the DPoP nonce secret, the identity-signing key) goes through `readBinding`,
 * and each is parsed once per value by a `secretParser`, so a rotated secret is parsed again
 * and an unchanged one never.
 */

/** The binding of that name in the Worker's env, whatever it is; `undefined` when there is none. */
export function readBinding(env: unknown, name: string): unknown {
  if (typeof env !== 'object' || env === null) return undefined;
  return (env as Record<string, unknown>)[name];
}

/** A Worker secret's text; `undefined` when the Worker has none of that name, or it is not text. */
export function readSecret(env: unknown, name: string): string | undefined {
  const value = readBinding(env, name);
  return typeof value === 'string' ? value : undefined;
}

/**
 * `parse` applied once per distinct text: the last text and its result are kept, so a secret read
 * on every request costs a string comparison. A parse that throws is not kept.
 */
export function secretParser<T>(parse: (text: string) => T): (text: string) => T {
  let last: { readonly text: string; readonly value: T } | undefined;
  return (text) => {
    if (last?.text !== text) last = { text, value: parse(text) };
    return last.value;
  };
}
