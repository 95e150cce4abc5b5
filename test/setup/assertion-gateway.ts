/**
 * The gateway itself on a loopback port, for the tests that fetch its identity-assertion JWKS
 * over real HTTP, as an origin (or an edge-verifier one hop in) would. The Worker is bundled from
 * src/index.ts and served by bare workerd (the benchmark's launcher), with a policy that trusts a
 * fixed tenant of the dev issuer and forwards to the echo origin.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { exportJWK, generateKeyPair } from 'jose';
import { startWorkerd } from '../../bench/systems/workerd.ts';

/** What the tests are told about it (see test/provided-context.d.ts). */
export interface AssertionGateway {
  readonly url: string;
  /** The dev issuer tenant whose tokens it verifies: the test publishes that tenant's keys. */
  readonly tenant: string;
  /** Its identity assertion's `iss`. */
  readonly issuer: string;
  /** The echo origin's path it forwards to. */
  readonly originPath: string;
  /** The claims its assertion copies. */
  readonly claims: readonly string[];
}

const TENANT = 'assertion-gateway';
const ASSERTION_ISSUER = 'https://edge.example.test';
const CLAIMS = ['sub', 'email', 'scope'];

export async function startAssertionGateway(
  issuerUrl: string,
  originUrl: string,
): Promise<AssertionGateway & { close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'edge-verifier-assertion-gateway-'));
  const modulePath = join(dir, 'index.js');
  await build({
    entryPoints: [new URL('../../src/index.ts', import.meta.url).pathname],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:*'],
    outfile: modulePath,
    logLevel: 'silent',
  });
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const tenantUrl = `${issuerUrl}/t/${TENANT}`;
  const originPath = `/${TENANT}`;
  const policy = {
    issuers: { corp: { issuer: tenantUrl, audiences: ['https://api.example.test'], jwks_uri: `${tenantUrl}/jwks` } },
    routes: [{ path: '/*', access: 'required' }],
    origin: `${originUrl}${originPath}`,
    identity_assertion: { signing_key: 'ASSERTION_KEYS', issuer: ASSERTION_ISSUER, claims: CLAIMS },
  };
  const running = await startWorkerd('assertion-gateway', modulePath, {
    POLICY: JSON.stringify(policy),
    ASSERTION_KEYS: JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: 'gateway-es256' }] }),
    LOG_LEVEL: 'error',
  });
  return {
    url: running.url,
    tenant: TENANT,
    issuer: ASSERTION_ISSUER,
    originPath,
    claims: CLAIMS,
    async close() {
      await running.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
