/** A token as a source found it, and the scheme it came under (only `Authorization` has `dpop`). */
export interface Credentials {
  readonly scheme: 'bearer' | 'dpop';
  readonly token: string;
  /** The source it came from: what logs and `explain` name, and what strips it before forwarding. */
  readonly source: TokenSource;
}

/**
 * One place a request may carry its token (Envoy's extractor split): the `Authorization` header
 * today; a header, a cookie or a query parameter are each a file that implements this.
 */
export interface TokenSource {
  /** How logs and `explain` name it: `authorization`, `header:<name>`, `cookie:<name>`, `query:<name>`. */
  readonly label: string;
  /**
   * The token this request carries here; `undefined` when it carries none here. A value that is
   * there but malformed is refused (it is never "no token").
   */
  read(request: Request, url: URL): Credentials | undefined;
}
