import { SignJWT } from 'jose';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import doc from '../../docs/guides/identity-providers.md?raw';
import { TestIssuer } from '../helpers/issuer.ts';
import { type Echo, TestOrigin } from '../helpers/origin.ts';
import { policyVars } from '../helpers/policy.ts';
import { callWorker, WORKER_URL } from '../helpers/worker.ts';

/**
 * Each recipe of docs/guides/identity-providers.md, run exactly as written there, with only the
 * provider's URLs (and the placeholders in capitals) replaced, against tokens shaped as the
 * provider documents them, and the refusals that matter for that provider.
 */

beforeEach(() => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
});

const RECIPE = /<!-- recipe: ([a-z0-9-]+) -->\n```json\n([\s\S]*?)\n```/g;
const recipes = new Map([...doc.matchAll(RECIPE)].map((match) => [match[1] as string, match[2] as string]));
const covered = new Set<string>();

/** The recipe's policy, with each real value replaced by the test's (longest first), and the test origin. */
function recipe(
  name: string,
  replace: Record<string, string>,
  origin: TestOrigin,
  secrets: Record<string, string> = {},
) {
  const text = recipes.get(name);
  if (text === undefined) throw new Error(`docs/guides/identity-providers.md has no recipe ${name}`);
  covered.add(name);
  let policy = text;
  for (const [real, local] of Object.entries(replace).sort(([a], [b]) => b.length - a.length)) {
    policy = policy.replaceAll(real, local);
  }
  return policyVars({ ...JSON.parse(policy), origin: origin.url }, secrets);
}

const now = () => Math.floor(Date.now() / 1000);

/** Claims the test helper sets by default that these providers do not. */
const BARE = { scope: undefined, sub: undefined, aud: undefined };

function get(path: string, token: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  return new Request(`${WORKER_URL}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...init.headers },
  });
}

async function outcome(response: Response): Promise<string> {
  return response.status === 200 ? 'ok' : `${response.status} ${((await response.json()) as { code: string }).code}`;
}

/** A key set published as Microsoft publishes one: no `alg`, `x5t`, `x5c`, and an `issuer` with `{tenantid}`. */
async function publishEntraKeys(keys: TestIssuer, issuer: string): Promise<void> {
  const { alg: _alg, ...jwk } = keys.key.publicJwk;
  await keys.publish({ keys: [{ ...jwk, x5t: keys.key.kid, x5c: ['MIIC8TCCAdmgAwIBAgIQ'], issuer }] });
}

describe('Microsoft Entra ID', () => {
  const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
  const API = '6e74172b-be56-4843-9ff4-e66a39bb12e3';
  const entraClaims = (iss: string, extra: Record<string, unknown>) => ({
    ...BARE,
    aud: API,
    iss,
    nbf: now(),
    aio: 'AWQAm/8TAAAA',
    azp: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c',
    azpacr: '0',
    name: 'Ada Lovelace',
    oid: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
    preferred_username: 'ada@contoso.example',
    rh: '0.AAAA',
    sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
    tid: TENANT,
    uti: 'fqiBqXLPj0eQa82S-IYFAA',
    ver: '2.0',
    ...extra,
  });

  it('single tenant: delegated scp as a string and app-only roles grant; Graph, v1 and other-tenant tokens are refused', async () => {
    const keys = await TestIssuer.create(['RS256']);
    const base = `${keys.url}/msft`;
    await publishEntraKeys(keys, `${base}/{tenantid}/v2.0`);
    const origin = new TestOrigin();
    const vars = recipe(
      'entra-single-tenant',
      {
        'https://login.microsoftonline.com/TENANT_ID/discovery/v2.0/keys': keys.jwksUri,
        'https://login.microsoftonline.com': base,
        TENANT_ID: TENANT,
        API_CLIENT_ID: API,
      },
      origin,
    );
    const iss = `${base}/${TENANT}/v2.0`;
    const mint = (extra: Record<string, unknown>) =>
      keys.mint({ claims: entraClaims(iss, extra), header: { typ: 'JWT', x5t: keys.key.kid } });
    const delegated = await mint({ scp: 'Items.Read User.Read' });
    expect(await outcome(await callWorker(get('/api/items', delegated), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/api/admin/x', delegated), vars))).toBe('403 insufficient_scope');
    const appOnly = await mint({ roles: ['Items.Read.All', 'Admin.All'], idtyp: 'app' });
    expect(await outcome(await callWorker(get('/api/admin/x', appOnly), vars))).toBe('ok');
    const uriAudience = await mint({ scp: 'Items.Read', aud: `api://${API}` });
    expect(await outcome(await callWorker(get('/api/items', uriAudience), vars))).toBe('ok');
    const graph = await mint({ scp: 'User.Read', aud: '00000003-0000-0000-c000-000000000000' });
    expect(await outcome(await callWorker(get('/api/items', graph), vars))).toBe('401 wrong_audience');
    const v1 = await mint({ scp: 'Items.Read', iss: `https://sts.windows.net/${TENANT}/`, ver: '1.0' });
    expect(await outcome(await callWorker(get('/api/items', v1), vars))).toBe('401 wrong_issuer');
    const otherTenant = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';
    const foreign = await mint({ scp: 'Items.Read', iss: `${base}/${otherTenant}/v2.0`, tid: otherTenant });
    expect(await outcome(await callWorker(get('/api/items', foreign), vars))).toBe('401 wrong_issuer');
  });

  it('multi-tenant: v2 and v1 tokens of listed tenants, each with its own keys; another tenant or a tid that differs is refused', async () => {
    const v2 = await TestIssuer.create(['RS256']);
    const v1 = await TestIssuer.create(['RS256']);
    const login = `${v2.url}/msft`;
    const sts = `${v1.url}/sts`;
    await publishEntraKeys(v2, `${login}/{tenantid}/v2.0`);
    await publishEntraKeys(v1, `${sts}/{tenantid}/`);
    const [one, two, three] = [
      '72f988bf-86f1-41af-91ab-2d7cd011db47',
      'f8cdef31-a31e-4b4a-93e4-5f571e91255a',
      '9188040d-6c67-4c5b-b112-36a304b66dad',
    ];
    const origin = new TestOrigin();
    const vars = recipe(
      'entra-multi-tenant',
      {
        'https://login.microsoftonline.com/common/discovery/v2.0/keys': v2.jwksUri,
        'https://login.microsoftonline.com/common/discovery/keys': v1.jwksUri,
        'https://login.microsoftonline.com': login,
        'https://sts.windows.net': sts,
        CUSTOMER_TENANT_ID_1: one,
        CUSTOMER_TENANT_ID_2: two,
        API_CLIENT_ID: API,
      },
      origin,
    );
    const v2Token = (tenant: string, extra: Record<string, unknown> = {}) =>
      v2.mint({ claims: entraClaims(`${login}/${tenant}/v2.0`, { tid: tenant, scp: 'Items.Read', ...extra }) });
    const v1Token = (tenant: string) =>
      v1.mint({
        claims: entraClaims(`${sts}/${tenant}/`, {
          tid: tenant,
          aud: `api://${API}`,
          ver: '1.0',
          appid: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c',
          roles: ['Items.Read.All'],
        }),
      });
    expect(await outcome(await callWorker(get('/api/items', await v2Token(one)), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/api/items', await v1Token(two)), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/api/items', await v2Token(three)), vars))).toBe('401 wrong_issuer');
    expect(await outcome(await callWorker(get('/api/items', await v2Token(one, { tid: two })), vars))).toBe(
      '401 wrong_issuer',
    );
    // A v2 token signed with the v1 set's key: the v2 issuer reads its own key set only.
    const crossSigned = await v2.mint({
      key: v1.key,
      claims: entraClaims(`${login}/${one}/v2.0`, { tid: one, scp: 'Items.Read' }),
    });
    expect(await outcome(await callWorker(get('/api/items', crossSigned), vars))).toBe('401 unknown_kid');
  });
});

describe('Auth0 with RBAC', () => {
  it('grants from permissions only; an ID token and a token for another API are refused', async () => {
    const keys = await TestIssuer.create(['RS256']);
    const origin = new TestOrigin();
    const tenant = `${keys.url}/auth0/`;
    const vars = recipe(
      'auth0',
      {
        'https://YOUR_TENANT.us.auth0.com/.well-known/jwks.json': keys.jwksUri,
        'https://YOUR_TENANT.us.auth0.com/': tenant,
      },
      origin,
    );
    const mint = (claims: Record<string, unknown>, typ = 'at+jwt') =>
      keys.mint({
        header: { typ },
        claims: {
          ...BARE,
          iss: tenant,
          sub: 'auth0|64d1f2',
          aud: ['https://api.example.com', `${tenant}userinfo`],
          azp: 'kbyuFDidLLm280LIwVFiazOqjO3ty8KH',
          scope: 'openid profile',
          ...claims,
        },
      });
    const reader = await mint({ permissions: ['read:items'] });
    expect(await outcome(await callWorker(get('/items/1', reader), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/items/1', reader, { method: 'POST' }), vars))).toBe(
      '403 insufficient_scope',
    );
    const writer = await mint({ permissions: ['read:items', 'write:items'] });
    expect(await outcome(await callWorker(get('/items/1', writer, { method: 'POST' }), vars))).toBe('ok');
    // `scope` is what the client asked for, not what it was granted: it grants nothing here.
    const scopeOnly = await mint({ scope: 'openid read:items' });
    expect(await outcome(await callWorker(get('/items/1', scopeOnly), vars))).toBe('403 insufficient_scope');
    const idToken = await mint({ aud: 'kbyuFDidLLm280LIwVFiazOqjO3ty8KH', nonce: 'n', name: 'Ada' }, 'JWT');
    expect(await outcome(await callWorker(get('/items/1', idToken), vars))).toBe('401 wrong_audience');
    const otherApi = await mint({ aud: 'https://billing.example.com', permissions: ['read:items'] });
    expect(await outcome(await callWorker(get('/items/1', otherApi), vars))).toBe('401 wrong_audience');
  });
});

describe('Okta', () => {
  it('accepts a custom authorization server token with scp and cid; the org server and a token without cid are refused', async () => {
    const keys = await TestIssuer.create(['RS256']);
    const origin = new TestOrigin();
    const org = `${keys.url}/okta`;
    const vars = recipe(
      'okta',
      {
        'https://YOUR_ORG.okta.com/oauth2/default/v1/keys': keys.jwksUri,
        'https://YOUR_ORG.okta.com': org,
      },
      origin,
    );
    const mint = (claims: Record<string, unknown>) =>
      keys.mint({
        claims: {
          ...BARE,
          ver: 1,
          jti: 'AT.mHJ2mp_Zl1TKmw4jeNlw9XDq',
          iss: `${org}/oauth2/default`,
          aud: 'api://default',
          cid: '0oa1jw6sc3hjYZ45M4x7',
          uid: '00u1jw6gntiR6gpEY4x7',
          scp: ['openid', 'items.read'],
          auth_time: now(),
          sub: 'ada@example.com',
          ...claims,
        },
      });
    expect(await outcome(await callWorker(get('/items', await mint({})), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/items', await mint({ scp: ['openid'] })), vars))).toBe(
      '403 insufficient_scope',
    );
    expect(await outcome(await callWorker(get('/items', await mint({ cid: undefined })), vars))).toBe(
      '401 invalid_claims',
    );
    const orgServer = await mint({ iss: org, aud: org });
    expect(await outcome(await callWorker(get('/items', orgServer), vars))).toBe('401 wrong_issuer');
  });
});

describe('Amazon Cognito', () => {
  it('accepts an access token by client_id without aud; an ID token and another client are refused', async () => {
    const keys = await TestIssuer.create(['RS256']);
    const origin = new TestOrigin();
    const pool = `${keys.url}/us-east-1_EXAMPLE`;
    const vars = recipe(
      'cognito',
      {
        'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE/.well-known/jwks.json': keys.jwksUri,
        'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE': pool,
        APP_CLIENT_ID: '1example23456789abcdefghij',
      },
      origin,
    );
    const mint = (claims: Record<string, unknown>) =>
      keys.mint({
        claims: {
          ...BARE,
          sub: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
          'cognito:groups': ['admins'],
          iss: pool,
          version: 2,
          client_id: '1example23456789abcdefghij',
          origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
          event_id: 'cccccccc-dddd-eeee-ffff-aaaaaaaaaaaa',
          token_use: 'access',
          scope: 'https://api.example.com/items.read',
          auth_time: now(),
          jti: 'dddddddd-eeee-ffff-aaaa-bbbbbbbbbbbb',
          username: 'ada',
          ...claims,
        },
      });
    expect(await outcome(await callWorker(get('/items', await mint({})), vars))).toBe('ok');
    const idToken = await mint({ aud: '1example23456789abcdefghij', token_use: 'id', client_id: undefined });
    expect(await outcome(await callWorker(get('/items', idToken), vars))).toBe('401 wrong_audience');
    const otherClient = await mint({ client_id: '2another' });
    expect(await outcome(await callWorker(get('/items', otherClient), vars))).toBe('401 wrong_audience');
  });
});

describe('Keycloak', () => {
  it('accepts realm and client roles with the audience mapper; the default account audience, refresh and ID tokens are refused', async () => {
    const keys = await TestIssuer.create(['RS256']);
    const origin = new TestOrigin();
    const realm = `${keys.url}/realms/acme`;
    const vars = recipe(
      'keycloak',
      {
        'https://keycloak.example.com/realms/YOUR_REALM/protocol/openid-connect/certs': keys.jwksUri,
        'https://keycloak.example.com/realms/YOUR_REALM': realm,
      },
      origin,
    );
    const mint = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
      keys.mint({
        header: { typ: 'JWT', ...header },
        claims: {
          ...BARE,
          jti: 'onrtac:3c7f',
          iss: realm,
          aud: ['my-api', 'account'],
          sub: 'f2a3b7c0-5d1e-4e3f-9a8b-1c2d3e4f5a6b',
          typ: 'Bearer',
          azp: 'web-app',
          sid: 'a1b2c3',
          acr: '1',
          realm_access: { roles: ['offline_access', 'default-roles-acme'] },
          resource_access: { account: { roles: ['manage-account'] } },
          scope: 'openid profile email',
          email_verified: true,
          preferred_username: 'ada',
          ...claims,
        },
      });
    const realmRole = await mint({ realm_access: { roles: ['item-reader'] } });
    expect(await outcome(await callWorker(get('/items', realmRole), vars))).toBe('ok');
    const clientRole = await mint({ resource_access: { 'my-api': { roles: ['item-reader'] } } });
    expect(await outcome(await callWorker(get('/items', clientRole), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/items', await mint({})), vars))).toBe('403 insufficient_scope');
    const noMapper = await mint({ aud: 'account', realm_access: { roles: ['item-reader'] } });
    expect(await outcome(await callWorker(get('/items', noMapper), vars))).toBe('401 wrong_audience');
    const idToken = await mint({ typ: 'ID', aud: 'web-app', realm_access: { roles: ['item-reader'] } });
    expect(await outcome(await callWorker(get('/items', idToken), vars))).toBe('401 wrong_audience');
    const at = now();
    const refresh = await new SignJWT({
      iss: realm,
      aud: realm,
      sub: 'f2a3b7c0',
      typ: 'Refresh',
      iat: at,
      exp: at + 1800,
    })
      .setProtectedHeader({ alg: 'HS512', typ: 'JWT', kid: 'realm-hmac' })
      .sign(new TextEncoder().encode('k'.repeat(64)));
    expect(await outcome(await callWorker(get('/items', refresh), vars))).toBe('401 alg_not_allowed');
  });
});

describe('Google ID tokens', () => {
  it('accepts both documented issuers for the listed service account; another caller or audience is refused', async () => {
    const keys = await TestIssuer.create(['RS256']);
    const origin = new TestOrigin();
    const vars = recipe(
      'google',
      {
        'https://www.googleapis.com/oauth2/v3/certs': keys.jwksUri,
        'https://accounts.google.com': keys.url,
        PROJECT_ID: 'my-project',
      },
      origin,
    );
    const mint = (claims: Record<string, unknown>) =>
      keys.mint({
        claims: {
          ...BARE,
          aud: 'https://api.example.com',
          azp: '112233445566778899000',
          email: 'caller@my-project.iam.gserviceaccount.com',
          email_verified: true,
          iss: keys.url,
          sub: '112233445566778899000',
          ...claims,
        },
      });
    expect(await outcome(await callWorker(get('/x', await mint({})), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/x', await mint({ iss: 'accounts.google.com' })), vars))).toBe('ok');
    const stranger = await mint({ email: 'someone@gmail.com' });
    expect(await outcome(await callWorker(get('/x', stranger), vars))).toBe('403 claim_mismatch');
    const elsewhere = await mint({ aud: 'https://other.example.com' });
    expect(await outcome(await callWorker(get('/x', elsewhere), vars))).toBe('401 wrong_audience');
  });
});

describe('Firebase Authentication', () => {
  it('accepts a token of the project from the JWK-form key URL; another project is refused', async () => {
    const keys = await TestIssuer.create(['RS256']);
    const origin = new TestOrigin();
    const securetoken = `${keys.url}/securetoken`;
    const vars = recipe(
      'firebase',
      {
        'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com': keys.jwksUri,
        'https://securetoken.google.com': securetoken,
        PROJECT_ID: 'my-app',
      },
      origin,
    );
    const mint = (project: string, claims: Record<string, unknown> = {}) =>
      keys.mint({
        claims: {
          ...BARE,
          iss: `${securetoken}/${project}`,
          aud: project,
          auth_time: now(),
          user_id: 'Xy12Ab34',
          sub: 'Xy12Ab34',
          email: 'ada@example.com',
          firebase: { identities: { email: ['ada@example.com'] }, sign_in_provider: 'password' },
          ...claims,
        },
      });
    const response = await callWorker(get('/x', await mint('my-app')), vars);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Echo).headers['x-auth-subject']).toBe('Xy12Ab34');
    expect(await outcome(await callWorker(get('/x', await mint('other-app')), vars))).toBe('401 wrong_issuer');
    const foreignAudience = await mint('my-app', { aud: 'other-app' });
    expect(await outcome(await callWorker(get('/x', foreignAudience), vars))).toBe('401 wrong_audience');
  });
});

describe('Clerk', () => {
  it('accepts a session token by its azp origin without aud; another origin is refused', async () => {
    const keys = await TestIssuer.create(['RS256']);
    const origin = new TestOrigin();
    const frontendApi = `${keys.url}/clerk`;
    const vars = recipe(
      'clerk',
      {
        'https://clerk.example.com/.well-known/jwks.json': keys.jwksUri,
        'https://clerk.example.com': frontendApi,
      },
      origin,
    );
    const mint = (azp: string) =>
      keys.mint({
        claims: { ...BARE, azp, iss: frontendApi, nbf: now(), sid: 'sess_2abc', sub: 'user_2xyz' },
      });
    expect(await outcome(await callWorker(get('/x', await mint('https://app.example.com')), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/x', await mint('https://evil.example')), vars))).toBe(
      '401 wrong_audience',
    );
  });
});

describe('Supabase', () => {
  it('accepts ES256 tokens from the JWKS and legacy HS256 tokens from the secret; the anon key is refused', async () => {
    const keys = await TestIssuer.create(['ES256']);
    const origin = new TestOrigin();
    const project = `${keys.url}/supabase`;
    const secret = 'super-secret-jwt-token-with-at-least-32-characters-long';
    const vars = recipe(
      'supabase',
      {
        'https://PROJECT_REF.supabase.co/auth/v1/.well-known/jwks.json': keys.jwksUri,
        'https://PROJECT_REF.supabase.co': project,
      },
      origin,
      { SUPABASE_JWT_SECRET: secret },
    );
    const claims = {
      iss: `${project}/auth/v1`,
      sub: '8ccaa7af-909f-44e7-84cb-67cdccb56be6',
      aud: 'authenticated',
      exp: now() + 3600,
      iat: now(),
      email: 'ada@example.com',
      phone: '',
      app_metadata: { provider: 'email', providers: ['email'] },
      user_metadata: {},
      role: 'authenticated',
      aal: 'aal1',
      amr: [{ method: 'password', timestamp: now() }],
      session_id: '4d2c1b0a',
      is_anonymous: false,
    };
    const hs256 = (payload: Record<string, unknown>, key = secret) =>
      new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(key));
    expect(await outcome(await callWorker(get('/x', await keys.mint({ claims })), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/x', await hs256(claims)), vars))).toBe('ok');
    expect(await outcome(await callWorker(get('/x', await hs256(claims, `${secret}!`)), vars))).toBe(
      '401 bad_signature',
    );
    const anonKey = await hs256({
      iss: 'supabase',
      ref: 'abcdefghijklmnop',
      role: 'anon',
      iat: now(),
      exp: now() + 3600,
    });
    expect(await outcome(await callWorker(get('/x', anonKey), vars))).toBe('401 wrong_issuer');
    const anonymousUser = await keys.mint({ claims: { ...claims, role: 'anon' } });
    expect(await outcome(await callWorker(get('/x', anonymousUser), vars))).toBe('403 claim_mismatch');
  });
});

describe('Cloudflare Access', () => {
  it('reads the header and the cookie as one token, strips both, and sets no subject for a service token', async () => {
    const keys = await TestIssuer.create(['RS256']);
    const origin = new TestOrigin();
    const team = `${keys.url}/access`;
    const tag = '4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2';
    const vars = recipe(
      'cloudflare-access',
      {
        'https://YOUR_TEAM.cloudflareaccess.com/cdn-cgi/access/certs': keys.jwksUri,
        'https://YOUR_TEAM.cloudflareaccess.com': team,
        APPLICATION_AUD_TAG: tag,
      },
      origin,
    );
    const mint = (claims: Record<string, unknown>) =>
      keys.mint({
        claims: {
          ...BARE,
          aud: [tag],
          email: 'ada@example.com',
          iss: team,
          nbf: now(),
          type: 'app',
          identity_nonce: '6ei69kawdKzMIAPF',
          sub: '7335d417-61da-459d-899c-0a01c76a2f94',
          country: 'US',
          ...claims,
        },
      });
    const user = await mint({});
    const asAccess = (token: string) =>
      new Request(`${WORKER_URL}/x`, {
        headers: { 'cf-access-jwt-assertion': token, cookie: `CF_Authorization=${token}; theme=dark` },
      });
    const response = await callWorker(asAccess(user), vars);
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Echo;
    expect(echo.headers['x-auth-subject']).toBe('7335d417-61da-459d-899c-0a01c76a2f94');
    expect(echo.headers['cf-access-jwt-assertion']).toBeUndefined();
    expect(echo.headers.cookie).toBe('theme=dark');
    const service = await mint({ sub: '', email: undefined, common_name: '88bf3b6d86161464f6509f7219099e57.access' });
    const serviceEcho = (await (await callWorker(asAccess(service), vars)).json()) as Echo;
    expect(serviceEcho.headers['x-auth-subject']).toBeUndefined();
    const otherApp = await mint({ aud: ['0000000000000000000000000000000000000000000000000000000000000000'] });
    expect(await outcome(await callWorker(asAccess(otherApp), vars))).toBe('401 wrong_audience');
  });
});

describe('docs/guides/identity-providers.md', () => {
  it('has a test above for every recipe it holds', () => {
    expect([...recipes.keys()].sort()).toEqual([...covered].sort());
    expect(recipes.size).toBe(11);
  });
});
