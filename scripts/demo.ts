/** What `npm start` and `npm run token` share about the local demo. */
import { readFile } from 'node:fs/promises';

export const DEMO_TENANT = 'demo';
export const DEMO_AUDIENCE = 'demo-api';
export const DEMO_STATE_FILE = '.wrangler/demo.json';

export async function mintDemoToken(issuerUrl: string, claims: Record<string, string> = {}): Promise<string> {
  const response = await fetch(`${issuerUrl}/token`, {
    method: 'POST',
    body: new URLSearchParams({ aud: DEMO_AUDIENCE, ...claims }),
  });
  if (!response.ok) throw new Error(`the dev issuer refused to mint: ${response.status}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

export async function readDemoState(): Promise<{ issuerUrl: string; workerUrl: string }> {
  try {
    return JSON.parse(await readFile(DEMO_STATE_FILE, 'utf8'));
  } catch {
    throw new Error('no demo is running: start it with npm start');
  }
}
