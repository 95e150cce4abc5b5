/** What the Node global setup hands to the tests running in workerd (see test/setup/global-setup.ts). */
declare module 'vitest' {
  export interface ProvidedContext {
    issuerUrl: string;
    originUrl: string;
    oidcIssuer: string;
    oidcClient: { id: string; secret: string; resource: string; scope: string };
    /** A resource whose tokens are opaque, and the verifier's client at the introspection endpoint. */
    oidcOpaque: { resource: string; introspector: { id: string; secret: string } };
    /** The gateway on a loopback port, signing identity assertions (test/setup/assertion-gateway.ts). */
    assertionGateway: import('./setup/assertion-gateway.ts').AssertionGateway;
  }
}

export {};
