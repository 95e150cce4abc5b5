/** What the Node global setup hands to the tests running in workerd (see test/setup/global-setup.ts). */
declare module 'vitest' {
  export interface ProvidedContext {
    issuerUrl: string;
    originUrl: string;
    oidcIssuer: string;
    oidcClient: { id: string; secret: string; resource: string; scope: string };
  }
}

export {};
