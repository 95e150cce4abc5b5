/**
 * The issuer's metadata or key set could not be used. Internal: the resolver turns it into
 * a cached-keys fallback, `unknown_kid` or `jwks_unavailable`, never into a response itself.
 */
export class KeySourceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KeySourceError';
  }
}
