/**
 * The bytes base64url `text` encodes, one char per byte (a "binary string"). The caller has
 * already checked that `text` is base64url characters only, of a length that is not 4n+1:
 * `atob` would skip whitespace and accept padding, which a base64url value must not hold.
 */
export function base64urlToBinary(text: string): string {
  return atob(text.replace(/-/g, '+').replace(/_/g, '/'));
}
