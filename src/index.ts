import { createGateway } from './worker/gateway.ts';

/** The Worker `wrangler deploy` ships: the gateway, configured by its variables. */
export default createGateway();

/** The optional `DPOP_REPLAY` Durable Object (docs/guides/dpop.md). */
export { DpopReplay } from './binding/dpop-replay-object.ts';
/** The optional `JWKS_COORDINATOR` Durable Object (docs/guides/running-at-scale.md). */
export { JwksCoordinator } from './coordinator/durable-object.ts';
