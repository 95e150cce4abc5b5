import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import worker from 'edge-verifier/worker';
import { describe, expect, it } from 'vitest';

/** The deployed Worker itself, with this wrangler.toml's variables and bindings. */
async function call(path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  // The handler types requests as incoming ones, with `cf` properties a test request lacks.
  const request = new Request(`https://api.example.com${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
  const response = await worker.fetch(request, env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

describe('the wrangler.toml-only gateway', () => {
  it('parses this policy and answers without reaching the origin or the issuer', async () => {
    const metadata = await call('/.well-known/oauth-protected-resource');
    expect(metadata.status).toBe(200);
    expect(await metadata.json()).toMatchObject({ resource: 'https://api.example.com', scopes_supported: ['read', 'write'] });

    const refused = await call('/api/items');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe(
      'Bearer realm="api", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"',
    );
    expect((await call('/elsewhere')).status).toBe(404);
  });
});
