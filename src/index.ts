import { createGateway } from './worker/gateway.ts';

/** The Worker `wrangler deploy` ships: the gateway, configured by its variables. */
export default createGateway();

/** The optional `DPOP_REPLAY` Durable Object (README.md, "DPoP"). */
export { DpopReplay } from './binding/dpop-replay-object.ts';
/** The optional `JWKS_COORDINATOR` Durable Object (README.md, "Running at scale"). */
export { JwksCoordinator } from './coordinator/durable-object.ts';
