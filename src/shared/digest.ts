/** SHA-256 of the UTF-8 of `text`, by the runtime's WebCrypto. */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}
