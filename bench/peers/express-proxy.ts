/**
 * Systems D and E, and their shared ceiling: one Express app with a minimal keep-alive proxy to
 * ORIGIN, behind either no auth (PEER=none), Curity's `express-oauth-jwt` (PEER=express-oauth-jwt)
 * or `jwks-rsa` + `jsonwebtoken` (PEER=jwks-rsa). Announces its port as a JSON line.
 */
import { Agent, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';

const require = createRequire(import.meta.url);
const { PEER = 'none', ORIGIN = '', JWKS_URI = '', ISSUER = '', AUDIENCE = '' } = process.env;
const origin = new URL(ORIGIN);
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function proxy(req: Request, res: Response): void {
  const upstream = httpRequest(
    {
      host: origin.hostname,
      port: origin.port,
      path: req.originalUrl,
      method: req.method,
      headers: req.headers,
      agent,
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => res.status(502).end());
  req.pipe(upstream);
}

function expressOauthJwt() {
  // The library's own jose (v4) builds the key getter, as its README shows. `secure` checks no
  // iss or aud by itself; its `claims` option is how the README asks for them, so the work
  // matches what the other verifiers do.
  const { createRemoteJWKSet } = require(require.resolve('jose', { paths: [require.resolve('express-oauth-jwt')] }));
  const { secure } = require('express-oauth-jwt');
  return secure(createRemoteJWKSet(new URL(JWKS_URI)), {
    claims: [
      { name: 'iss', value: ISSUER },
      { name: 'aud', value: AUDIENCE },
    ],
  });
}

function jwksRsa() {
  const jwksClient = require('jwks-rsa');
  const jwt = require('jsonwebtoken');
  const client = jwksClient({ jwksUri: JWKS_URI, cache: true, rateLimit: true, jwksRequestsPerMinute: 10 });
  return (req: Request, res: Response, next: NextFunction) => {
    const match = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!match) return void res.status(401).set('www-authenticate', 'Bearer').end();
    jwt.verify(
      match[1],
      (header: { kid?: string }, callback: (error: Error | null, key?: string) => void) =>
        client.getSigningKey(header.kid, (error: Error | null, key?: { getPublicKey(): string }) =>
          callback(error, key?.getPublicKey()),
        ),
      { algorithms: ['RS256', 'ES256'], issuer: ISSUER, audience: AUDIENCE },
      (error: Error | null) =>
        error ? res.status(401).set('www-authenticate', 'Bearer error="invalid_token"').end() : next(),
    );
  };
}

const app = express();
app.disable('x-powered-by');
app.disable('etag');
if (PEER === 'express-oauth-jwt') app.use(expressOauthJwt());
if (PEER === 'jwks-rsa') app.use(jwksRsa());
app.use(proxy);

const server = app.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
server.keepAliveTimeout = 60_000;
