/**
 * Runs in Node before the workerd test pool starts: real HTTP servers on loopback for the
 * issuer, the origin and a real OpenID Provider. Tests reach them over real HTTP.
 */
import type { TestProject } from 'vitest/node';
import { startDevIssuer } from '../../scripts/dev-issuer.ts';
import { startEchoOrigin } from '../../scripts/echo-origin.ts';
import type {} from '../provided-context.d.ts';
import { startAssertionGateway } from './assertion-gateway.ts';
import {
  E2E_CLIENT,
  E2E_INTROSPECTOR,
  E2E_OPAQUE_RESOURCE,
  E2E_RESOURCE,
  E2E_SCOPE,
  startOidcProvider,
} from './oidc-provider.ts';

export default async function setup(project: TestProject) {
  const [issuer, origin, oidc] = await Promise.all([startDevIssuer(), startEchoOrigin(), startOidcProvider()]);
  project.provide('issuerUrl', issuer.url);
  project.provide('originUrl', origin.url);
  project.provide('oidcIssuer', oidc.issuer);
  project.provide('oidcClient', { ...E2E_CLIENT, resource: E2E_RESOURCE, scope: E2E_SCOPE });
  project.provide('oidcOpaque', { resource: E2E_OPAQUE_RESOURCE, introspector: E2E_INTROSPECTOR });
  const { close: closeGateway, ...gateway } = await startAssertionGateway(issuer.url, origin.url);
  project.provide('assertionGateway', gateway);
  return async () => {
    await Promise.all([issuer.close(), origin.close(), oidc.close(), closeGateway()]);
  };
}
