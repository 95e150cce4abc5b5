/**
 * The real-async operations of the code under simulation: WebCrypto completes on the runtime's
 * thread pool (Node) or its own event loop (workerd), not as a microtask. For the length of a
 * run each is handed to `Scheduler.hold`, so the loop waits for it before moving the clock.
 */
import type { Scheduler } from './clock.ts';

/** `crypto.subtle` methods the resolver and the coordinator reach (jose's `importJWK`, `hashKeys`). */
const HELD_SUBTLE_METHODS = ['importKey', 'digest'] as const;

/** Wraps the methods on `crypto.subtle` itself; the returned function puts the originals back. */
export function holdRealAsync(scheduler: Scheduler): () => void {
  const subtle = crypto.subtle as unknown as Record<string, unknown>;
  const restores = HELD_SUBTLE_METHODS.map((name) => {
    const own = Object.getOwnPropertyDescriptor(subtle, name);
    const original = subtle[name] as (...args: unknown[]) => Promise<unknown>;
    Object.defineProperty(subtle, name, {
      configurable: true,
      writable: true,
      value: (...args: unknown[]) => scheduler.hold(original.apply(crypto.subtle, args)),
    });
    return () => {
      if (own) Object.defineProperty(subtle, name, own);
      else delete subtle[name];
    };
  });
  return () => {
    for (const restore of restores) restore();
  };
}
