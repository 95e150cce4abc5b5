/**
 * What each kind of request carries in `Authorization`, and what a valid one must deliver to
 * the origin. Tokens come from small pools per key (so most valid tokens are seen many times,
 * and the Worker's verified-token cache is in play), plus a share minted for one request only.
 */
import { payloadSegment, type SigningKey, signToken } from './keys.ts';
import type { Random } from './random.ts';

/** Subjects of the valid tokens; each is a value X-Auth-Subject can carry exactly. */
const SUBJECTS = [
  ...Array.from({ length: 12 }, (_, i) => `user-${i + 1}`),
  'auth0|64f1c2d9e8b7a6f5e4d3c2b1',
  'svc:billing',
  'ana@example.test',
  'CN=robot,O=Example',
];
const TOKENS_PER_SUBJECT = 3;
const REFUSED_POOL_SIZE = 16;
const UNKNOWN_KIDS = ['never-published-1', 'never-published-2', 'never-published-3'];
/** Share of valid requests whose token is minted for that request alone. */
const FRESH_SHARE = 0.1;

/** Which published key the token's kid names: the rotation waits for every `old` one to finish before withdrawing it. */
export type KidUse = 'old' | 'next' | 'other';

export interface Credentials {
  /** `Authorization` values in order: none, one, or two (a repeated header). */
  readonly authorization: readonly string[];
  /** The token sent as `access_token` in the query as well. */
  readonly queryToken?: string;
  readonly kid: KidUse;
  /** For a valid token: the identity the origin must receive. */
  readonly subject?: string;
  readonly claims?: string;
  /** A token minted for this request alone. */
  readonly fresh?: boolean;
  /** Which malformation, for the report of a mismatch. */
  readonly variant?: string;
}

interface KeyPools {
  readonly valid: readonly { token: string; subject: string }[];
  readonly expired: readonly string[];
  readonly forged: readonly string[];
}

export interface TokenSource {
  /** Mints the pools of a key that has just become usable. */
  addKey(name: 'old' | 'next', key: SigningKey): Promise<void>;
  valid(key: 'old' | 'next', random: Random): Promise<Credentials>;
  expired(key: 'old' | 'next', random: Random): Credentials;
  forged(key: 'old' | 'next', random: Random): Credentials;
  unknownKid(random: Random): Credentials;
  /** A token of the withdrawn key, once the Worker has dropped it. */
  retired(random: Random): Credentials;
  malformedToken(random: Random): Credentials;
  malformedAuthorization(random: Random): Credentials;
}

export async function createTokenSource(issuer: string, foreign: SigningKey): Promise<TokenSource> {
  const keys = new Map<'old' | 'next', SigningKey>();
  const pools = new Map<'old' | 'next', KeyPools>();
  const unknown = await Promise.all(
    Array.from({ length: REFUSED_POOL_SIZE }, (_, i) =>
      signToken({ issuer, subject: 'user-1', key: foreign, kid: UNKNOWN_KIDS[i % UNKNOWN_KIDS.length] as string }),
    ),
  );
  const poolOf = (name: 'old' | 'next'): KeyPools => {
    const pool = pools.get(name);
    if (!pool) throw new Error(`no tokens for the ${name} key yet`);
    return pool;
  };
  const bearer = (token: string, kid: KidUse): Credentials => ({ authorization: [`Bearer ${token}`], kid });
  /** A well-formed token to damage or repeat: every variant is refused before a key is looked up, so its kid is no key's. */
  const sample = (random: Random): string => random.pick(poolOf(keys.has('next') ? 'next' : 'old').valid).token;

  return {
    async addKey(name, key) {
      const valid = await Promise.all(
        SUBJECTS.flatMap((subject) =>
          Array.from({ length: TOKENS_PER_SUBJECT }, async () => ({
            subject,
            token: await signToken({ issuer, subject, key }),
          })),
        ),
      );
      const refused = (options: { expired?: boolean; signer?: SigningKey }) =>
        Promise.all(
          Array.from({ length: REFUSED_POOL_SIZE }, (_, i) =>
            signToken({ issuer, subject: SUBJECTS[i % SUBJECTS.length] as string, key, ...options }),
          ),
        );
      pools.set(name, { valid, expired: await refused({ expired: true }), forged: await refused({ signer: foreign }) });
      // Only now: until its pools are full, nothing may pick this key.
      keys.set(name, key);
    },

    async valid(name, random) {
      const key = keys.get(name);
      if (!key) throw new Error(`no ${name} key yet`);
      const identity = (token: string, subject: string) => ({ subject, claims: payloadSegment(token) });
      if (random.next() < FRESH_SHARE) {
        const subject = random.pick(SUBJECTS);
        const token = await signToken({ issuer, subject, key });
        return { ...bearer(token, name), ...identity(token, subject), fresh: true };
      }
      const { token, subject } = random.pick(poolOf(name).valid);
      return { ...bearer(token, name), ...identity(token, subject) };
    },
    expired: (name, random) => bearer(random.pick(poolOf(name).expired), name),
    forged: (name, random) => bearer(random.pick(poolOf(name).forged), name),
    unknownKid: (random) => bearer(random.pick(unknown), 'other'),
    retired: (random) => bearer(random.pick(poolOf('old').valid).token, 'other'),

    malformedToken(random) {
      const token = sample(random);
      const [header = '', payload = '', signature = ''] = token.split('.');
      const variants: Record<string, () => string> = {
        garbage: () =>
          Buffer.from(crypto.getRandomValues(new Uint8Array(random.between(8, 300)))).toString('base64url'),
        'two segments': () => `${header}.${payload}`,
        'four segments': () => `${token}.${signature.slice(0, 8)}`,
        'header not JSON': () => `${Buffer.from('not json').toString('base64url')}.${payload}.${signature}`,
        // Still a b64token (so a 401, not a 400), but not base64url as RFC 7515 spells it.
        padded: () => `${token}==`,
      };
      const variant = random.pick(Object.keys(variants));
      return { ...bearer((variants[variant] as () => string)(), 'other'), variant };
    },

    malformedAuthorization(random) {
      const token = sample(random);
      const variants: Record<string, () => Credentials> = {
        // What "Bearer " becomes once a client trims it.
        'scheme alone': () => ({ authorization: ['Bearer'], kid: 'other' }),
        'not a b64token': () => bearer(`${token.slice(0, 40)}$%!${token.slice(40)}`, 'other'),
        'two Authorization values': () => ({
          authorization: [`Bearer ${token}`, `Bearer ${token}`],
          kid: 'other',
        }),
        // RFC 6750 §2: one method per request.
        'token in the query too': () => ({ ...bearer(token, 'other'), queryToken: token }),
      };
      const variant = random.pick(Object.keys(variants));
      return { ...(variants[variant] as () => Credentials)(), variant };
    },
  };
}
