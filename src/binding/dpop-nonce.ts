import { DPOP_NONCE_WINDOW_MS, IDENTITY_SIGNING_SECRET_MIN_LENGTH } from '../constants.ts';
import type { FixedSecretName } from '../env.ts';
import { ConfigError } from '../errors.ts';
import { bytesToBase64url } from '../shared/base64url.ts';

/** The Worker secret that turns on server-provided DPoP nonces (RFC 9449 §8, §9); listed in `SECRETS`. */
export const DPOP_NONCE_SECRET = 'DPOP_NONCE_SECRET' satisfies FixedSecretName;

/**
 * Stateless nonces: `<window>.<HMAC-SHA256(secret, window)>` for the current time window, so
 * every isolate of every data centre issues and accepts the same ones without sharing state. A
 * nonce is good in the window it was issued in and the next one: between one and two windows.
 */
export interface DpopNonces {
  current(now: number): Promise<string>;
  accepts(nonce: unknown, now: number): Promise<boolean>;
}

export function dpopNonces(secret: string): DpopNonces {
  if (secret.length < IDENTITY_SIGNING_SECRET_MIN_LENGTH) {
    throw new ConfigError(DPOP_NONCE_SECRET, `must be at least ${IDENTITY_SIGNING_SECRET_MIN_LENGTH} characters`);
  }
  const key = crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const forWindow = async (window: number) => {
    const mac = new Uint8Array(
      await crypto.subtle.sign('HMAC', await key, new TextEncoder().encode(`dpop-nonce:${window}`)),
    );
    return `${window}.${bytesToBase64url(mac)}`;
  };
  return {
    current: (now) => forWindow(Math.floor(now / DPOP_NONCE_WINDOW_MS)),
    async accepts(nonce, now) {
      if (typeof nonce !== 'string') return false;
      const window = Math.floor(now / DPOP_NONCE_WINDOW_MS);
      // Constant-time enough: the comparison is of MACs the client cannot compute.
      return nonce === (await forWindow(window)) || nonce === (await forWindow(window - 1));
    },
  };
}
