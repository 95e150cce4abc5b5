import { createGateway } from './gateway.ts';

/** The Worker `wrangler deploy` ships: the gateway, configured by its variables. */
export default createGateway();
