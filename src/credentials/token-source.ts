/** A token as a source found it, and the scheme it came under (only `Authorization` has `dpop`). */
export interface Credentials {
  readonly scheme: 'bearer' | 'dpop';
  readonly token: string;
  /** The first source it came from: what logs and `explain` name. */
  readonly source: TokenSource;
}

/**
 * One place a request may carry its token (Envoy's extractor split): each kind is a file that
 * implements this, and the route's list says which it reads, in order.
 */
export interface TokenSource {
  /** How logs and `explain` name it: `authorization`, `header:<name>`, `cookie:<name>`, `query:<name>`. */
  readonly label: string;
  /**
   * The token this request carries here; `undefined` when it carries none here. A value that is
   * there but malformed is refused (it is never "no token").
   */
  read(request: Request, url: URL): Credentials | undefined;
  /** The header this source's token is the whole value of, lower-case (`strip` removes it whole); none for a cookie or a query parameter. */
  readonly header?: string;
  /** Removes this source's token from the headers the origin receives (`forward_authorization: false`). */
  strip(headers: Headers): void;
}
