import { DPOP_PROOF_MAX_AGE_SECONDS, DPOP_REPLAY_CACHE_MAX_ENTRIES, DPOP_REPLAY_TIMEOUT_MS } from '../constants.ts';
import { VerifierError } from '../errors.ts';
import { oncePerCause } from '../keys/remote/tier-store.ts';
import type { Logger } from '../observe/log.ts';
import { type Clock, within } from '../shared/clock.ts';
import { secretParser } from '../worker/secrets.ts';
import { DPOP_NONCE_SECRET, dpopNonces } from './dpop-nonce.ts';
import { type ProofContext, type ProvenKey, verifyDpopProof } from './dpop-proof.ts';
import { createReplayCache, type ReplayGuard } from './dpop-replay.ts';

/** What the DPoP check needs of the request's I/O: the Worker's secrets, and the shared replay check. */
export interface DpopIo {
  secret?(name: string): string | undefined;
  readonly dpopReplay?: ReplayGuard | undefined;
}

export interface DpopCheck {
  /**
   * The request's DPoP proof (RFC 9449 §4.3), then, with DPOP_NONCE_SECRET set, its server nonce
   * (§9), then whether it is new (§11.1). `bind` runs between the proof and the rest: a proof by a
   * key the token is not bound to costs no nonce check and no replay record.
   */
  prove(
    proof: string | null,
    context: Omit<ProofContext, 'now'>,
    io: DpopIo,
    bind: (proven: ProvenKey) => void,
  ): Promise<void>;
}

/** Built once per isolate: it holds the isolate's own replay record and the nonce key. */
export function createDpopCheck(clock: Clock, log: Logger): DpopCheck {
  const replays = createReplayCache(DPOP_REPLAY_CACHE_MAX_ENTRIES);
  const replayLog = oncePerCause(log, clock.now, DPOP_PROOF_MAX_AGE_SECONDS * 1000);
  const noncesOf = secretParser(dpopNonces);

  /**
   * With DPOP_NONCE_SECRET set, a proof must carry a current server nonce; one without it, or with
   * a stale one, is answered `use_dpop_nonce` with a fresh nonce to retry with.
   */
  async function checkNonce(io: DpopIo, nonce: unknown): Promise<void> {
    const secret = io.secret?.(DPOP_NONCE_SECRET);
    if (secret === undefined) return;
    const nonces = noncesOf(secret);
    if (await nonces.accepts(nonce, clock.now())) return;
    const error = new VerifierError('use_dpop_nonce');
    error.dpopNonce = await nonces.current(clock.now());
    throw error;
  }

  /**
   * Whether this proof is new: asked of the DPOP_REPLAY object when bound; when it fails or does
   * not answer within `DPOP_REPLAY_TIMEOUT_MS`, of this isolate's own record (weaker: a replay to
   * another isolate goes unseen), logged once per interval rather than refusing every request.
   */
  async function firstUse(io: DpopIo, { jkt, jti }: ProvenKey): Promise<boolean> {
    const local = replays.firstUse(jkt, jti, clock.now());
    const shared = io.dpopReplay;
    if (!shared) return local;
    try {
      return (
        (await within(Promise.resolve(shared.firstUse(jkt, jti, clock.now())), DPOP_REPLAY_TIMEOUT_MS, clock)) && local
      );
    } catch (error) {
      replayLog('dpop_replay_unavailable', {
        tier: 'dpop_replay',
        op: 'firstUse',
        error: String(error),
        fallback: 'isolate',
      });
      return local;
    }
  }

  return {
    async prove(proof, context, io, bind) {
      const proven = await verifyDpopProof(proof, { ...context, now: clock.now() });
      bind(proven);
      await checkNonce(io, proven.nonce);
      if (!(await firstUse(io, proven))) throw new VerifierError('invalid_dpop_proof', 'replayed');
    },
  };
}
