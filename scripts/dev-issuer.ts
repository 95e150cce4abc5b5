/**
 * A local stand-in for an OAuth/OIDC issuer, for the demo and the tests. Each tenant under
 * `/t/<id>` is an independent issuer with its own discovery document, JWKS, fetch counters
 * and failure mode, so tests can run side by side without sharing state.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { DEV_INTROSPECTION_CLIENT } from './dev-introspection-client.ts';

export { DEV_INTROSPECTION_CLIENT } from './dev-introspection-client.ts';

/** How a tenant's JWKS endpoint misbehaves, for failure tests. */
export type JwksMode = 'ok' | 'error500' | 'hang' | 'html' | 'redirect-offhost' | 'redirect-samehost' | 'huge';

/** How a tenant's introspection endpoint misbehaves, for failure tests. */
export type IntrospectionMode = 'ok' | 'error500' | 'hang' | 'html' | 'status429' | 'status400' | 'slow';

interface Tenant {
  jwks: unknown;
  cacheControl: string | undefined;
  mode: JwksMode;
  /** Which metadata document the tenant publishes: OpenID Connect Discovery or only RFC 8414. */
  metadata: 'oidc' | 'rfc8414';
  jwksFetches: number;
  discoveryFetches: number;
  signing?: { key: CryptoKey; kid: string; alg: string };
  /** Tokens the introspection endpoint knows, with their answer's members; revoked ones answer inactive. */
  introspectable: Map<string, Record<string, unknown>>;
  revoked: Set<string>;
  introspectionMode: IntrospectionMode;
  introspectionCalls: number;
}

export interface DevIssuer {
  readonly url: string;
  readonly server: Server;
  /** Gives the tenant an RS256 key of its own so `/t/<id>/token` can mint tokens. */
  addSigningTenant(id: string): Promise<void>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024 * 16;

export async function startDevIssuer(port = 0): Promise<DevIssuer> {
  const tenants = new Map<string, Tenant>();
  const hanging = new Set<ServerResponse>();
  const tenant = (id: string): Tenant => {
    let found = tenants.get(id);
    if (!found) {
      found = {
        jwks: { keys: [] },
        cacheControl: undefined,
        mode: 'ok',
        metadata: 'oidc',
        jwksFetches: 0,
        discoveryFetches: 0,
        introspectable: new Map(),
        revoked: new Set(),
        introspectionMode: 'ok',
        introspectionCalls: 0,
      };
      tenants.set(id, found);
    }
    return found;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base());
    // RFC 8414 §3.1: the well-known segment comes before the issuer's path.
    const rfc8414 = /^\/\.well-known\/oauth-authorization-server\/t\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    if (req.method === 'GET' && rfc8414) {
      const t = tenant(rfc8414[1] as string);
      if (t.metadata !== 'rfc8414') return json(res, 404, { error: 'not_found' });
      t.discoveryFetches++;
      return json(res, 200, metadata(`${base()}/t/${rfc8414[1]}`));
    }
    const match = /^\/t\/([A-Za-z0-9_-]+)(\/.*)?$/.exec(url.pathname);
    if (!match) return json(res, 404, { error: 'not_found' });
    const id = match[1] as string;
    const rest = match[2] ?? '/';
    const t = tenant(id);
    const issuer = `${base()}/t/${id}`;

    if (req.method === 'GET' && rest === '/.well-known/openid-configuration' && t.metadata === 'oidc') {
      t.discoveryFetches++;
      return json(res, 200, metadata(issuer));
    }
    if (req.method === 'PUT' && rest === '/metadata') {
      t.metadata = (await readBody(req)) === 'rfc8414' ? 'rfc8414' : 'oidc';
      return json(res, 204);
    }
    if (req.method === 'GET' && rest === '/jwks') {
      t.jwksFetches++;
      return serveJwks(res, t, url);
    }
    if (req.method === 'PUT' && rest === '/jwks') {
      t.jwks = JSON.parse(await readBody(req));
      t.cacheControl = url.searchParams.get('cache-control') ?? undefined;
      return json(res, 204);
    }
    if (req.method === 'PUT' && rest === '/mode') {
      t.mode = (await readBody(req)) as JwksMode;
      return json(res, 204);
    }
    if (req.method === 'GET' && rest === '/stats') {
      return json(res, 200, {
        jwksFetches: t.jwksFetches,
        discoveryFetches: t.discoveryFetches,
        introspectionCalls: t.introspectionCalls,
      });
    }
    if (req.method === 'PUT' && rest === '/introspectable') {
      // One token, or many sharing their members (the benchmark registers its pool at once).
      const body = JSON.parse(await readBody(req)) as {
        token?: string;
        tokens?: string[];
        members: Record<string, unknown>;
      };
      for (const token of body.tokens ?? [body.token ?? '']) t.introspectable.set(token, body.members);
      return json(res, 204);
    }
    if (req.method === 'POST' && rest === '/revoke') {
      t.revoked.add(new URLSearchParams(await readBody(req)).get('token') ?? '');
      return json(res, 204);
    }
    if (req.method === 'PUT' && rest === '/introspection-mode') {
      t.introspectionMode = (await readBody(req)) as IntrospectionMode;
      return json(res, 204);
    }
    if (req.method === 'POST' && rest === '/introspect') return introspect(req, res, t);
    if (req.method === 'POST' && rest === '/token') {
      if (!t.signing) return json(res, 404, { error: 'tenant has no signing key' });
      const params = new URLSearchParams(await readBody(req));
      const email = params.get('email');
      const token = await new SignJWT({ scope: params.get('scope') ?? 'read', ...(email ? { email } : {}) })
        .setProtectedHeader({ alg: t.signing.alg, kid: t.signing.kid, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setSubject(params.get('sub') ?? 'demo-user')
        .setAudience(params.get('aud') ?? 'demo-api')
        .setIssuedAt()
        .setExpirationTime(params.get('expires_in') ? `${Number(params.get('expires_in'))}s` : '1h')
        .sign(t.signing.key);
      return json(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
    }
    return json(res, 404, { error: 'not_found' });
  }

  /**
   * RFC 7662 §2: the caller authenticates with client_secret_basic; a known token answers its
   * members with `active: true` (a revoked one, like an unknown one, `active: false`).
   */
  async function introspect(req: IncomingMessage, res: ServerResponse, t: Tenant): Promise<void> {
    t.introspectionCalls++;
    const expected = `Basic ${btoa(`${DEV_INTROSPECTION_CLIENT.id}:${DEV_INTROSPECTION_CLIENT.secret}`)}`;
    if (req.headers.authorization !== expected) return json(res, 401, { error: 'invalid_client' });
    const token = new URLSearchParams(await readBody(req)).get('token') ?? '';
    switch (t.introspectionMode) {
      case 'error500':
        return json(res, 500, { error: 'server_error' });
      case 'status429':
        return json(res, 429, { error: 'slow_down' });
      case 'status400':
        return json(res, 400, { error: 'invalid_request' });
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
        return;
      case 'hang':
        hanging.add(res);
        return;
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, 200));
        break;
      default:
        break;
    }
    const members = t.introspectable.get(token);
    const active = members !== undefined && !t.revoked.has(token);
    // oidc-provider sends no-store; the verifier's own cache_seconds decides.
    json(res, 200, active ? { active: true, ...members } : { active: false }, { 'cache-control': 'no-store' });
  }

  function serveJwks(res: ServerResponse, t: Tenant, url: URL): void {
    switch (t.mode) {
      case 'error500':
        json(res, 500, { error: 'server_error' });
        return;
      case 'hang':
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      case 'html':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Login</body></html>');
        return;
      case 'redirect-offhost':
        res
          .writeHead(302, { location: `http://localhost:${(server.address() as AddressInfo).port}${url.pathname}` })
          .end();
        return;
      case 'redirect-samehost':
        t.mode = 'ok';
        res.writeHead(302, { location: url.pathname }).end();
        return;
      case 'huge':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"keys":[],"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`);
        return;
      default: {
        const headers: Record<string, string> = {};
        if (t.cacheControl) headers['cache-control'] = t.cacheControl;
        json(res, 200, t.jwks, headers);
        return;
      }
    }
  }

  function base(): string {
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));

  return {
    get url() {
      return base();
    },
    server,
    async addSigningTenant(id) {
      const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
      const kid = `${id}-${Date.now().toString(36)}`;
      const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
      const t = tenant(id);
      t.jwks = { keys: [jwk] };
      t.signing = { key: privateKey, kid, alg: 'RS256' };
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function metadata(issuer: string) {
  return {
    issuer,
    jwks_uri: `${issuer}/jwks`,
    token_endpoint: `${issuer}/token`,
    introspection_endpoint: `${issuer}/introspect`,
    id_token_signing_alg_values_supported: ['RS256'],
  };
}

function json(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
