// A certified OpenID Provider on 127.0.0.1:$PORT for the interop tests.
//
// - client_credentials (client `interop-service`): JWT access tokens (RFC 9068) for three
//   resources, one per signing algorithm.
// - browser login (authorization code + PKCE) for the applications at $APP_URLS
//   (comma-separated base URLs), as clients `interop-web` (client_secret_basic),
//   `interop-post` (client_secret_post) and `interop-public` (no secret); callbacks
//   `{app}/{auth,login}/{provider}/callback`, post-logout redirects `{app}/...`.
//   `interop-hs` gets ID and logout tokens signed HS256 with its client secret (OpenID
//   Connect Core §10.1; provider name `hs`), `interop-signed` userinfo as a signed JWT
//   (§5.3.2; provider name `signed`).
// - the login and consent pages at /interaction/:uid: a form that accepts any user name
//   (but `nobody`), a consent form, and an abort button (`access_denied`).
// - the device flow (RFC 8628) for the web clients, its user pages at /device; token
//   revocation (RFC 7009).
// - back-channel logout (OpenID Connect Back-Channel Logout 1.0) to the first app's
//   `{app}/auth/{oidc,post,public}/backchannel-logout`, with `sid`; its outgoing calls
//   may go to loopback (the default fetch refuses special-use addresses).
// - step-up (RFC 9470): the login form's `otp` field, when filled, authenticates with
//   acr `urn:example:loa:2` (amr pwd, otp), else `urn:example:loa:1`; JWT access tokens
//   of a user carry the login's `acr` and `auth_time` (`extraTokenClaims`).
// - pushed authorization requests (RFC 9126) are on, as by default; $REQUIRE_PAR=1
//   makes the provider accept authorization requests only pushed.
// - introspection (RFC 7662) for the resource server `interop-rs` (client_secret_basic);
//   resource `urn:example:api:opaque` gets opaque access tokens, the others JWTs.
// - DPoP (RFC 9449): token requests with a proof get DPoP-bound tokens (`cnf.jkt`);
//   $DPOP_NONCES=1 makes every proof (token endpoint, userinfo) carry a server nonce.
// - $EXTRA_REDIRECT_URIS (comma-separated) are registered too (a CLI's loopback).
// - $ACCESS_TOKEN_TTL sets the access token lifetime in seconds (default 3600), and
//   $CLIENT_CREDENTIALS_TTL that of the client_credentials grant's tokens (default 600).
// - $ALWAYS_REFRESH_TOKENS=1 issues refresh tokens to the web clients without
//   `offline_access` (which oidc-provider otherwise grants only with `prompt=consent`).
// - `interop-pkjwt` authenticates with private_key_jwt (its public keys: $CLIENT_JWKS, a
//   JWK set), `interop-secretjwt` with client_secret_jwt; `interop-fapi` (same keys) is
//   held to oidc-provider's FAPI 2.0 profile.
// - more resource servers that introspect: `interop-rs-post` (client_secret_post),
//   `interop-rs-secretjwt` (client_secret_jwt) and, with $CLIENT_JWKS, `interop-rs-pkjwt`
//   (private_key_jwt); and `interop-service-pkjwt`, a client_credentials client with
//   private_key_jwt.
// - token exchange (RFC 8693, `urn:ietf:params:oauth:grant-type:token-exchange`) and
//   Entra ID's on-behalf-of (`urn:ietf:params:oauth:grant-type:jwt-bearer` with
//   `requested_token_use=on_behalf_of`) for the middle-tier API `interop-api`
//   (client_secret_basic; also client_credentials): a user's access token (opaque, or a
//   JWT of this issuer) becomes an ES256 JWT access token for the requested `resource`,
//   `audience` or (Entra) `{resource}/{scope}` scopes, with the same `sub` and an `act`
//   claim naming the client (nesting the subject token's own `act`). Lifetime
//   $EXCHANGE_TTL seconds (default 300).
// - $MCP_RESOURCE (an MCP server's canonical URL) is a resource with the scopes
//   `mcp:tools mcp:deploy mcp:admin` and ES256 JWT access tokens, and dynamic client
//   registration (RFC 7591) is open, as MCP clients need it.
// - it prints its private signing keys (`signing-keys: [{kid, alg, der}]`: PKCS#1 DER for RSA, PKCS#8 for the others), so that the
//   tests can sign tokens exactly as it does, with one claim wrong.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createLocalJWKSet, importJWK, jwtVerify, SignJWT } from 'jose';
import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;

const exported = [];
function signingKey(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  const kid = `${alg.toLowerCase()}-key`;
  const der = privateKey.export({ format: 'der', type: type === 'rsa' ? 'pkcs1' : 'pkcs8' });
  exported.push({ kid, alg, der: der.toString('base64') });
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid };
}

const resources = {
  'urn:example:api:rs256': 'RS256',
  'urn:example:api:es256': 'ES256',
  'urn:example:api:eddsa': 'EdDSA',
  // The API a middle tier calls with exchanged tokens.
  'urn:example:api:downstream': 'ES256',
};

// Opaque access tokens (for introspection) for this resource.
const OPAQUE_RESOURCE = 'urn:example:api:opaque';

const mcpResource = process.env.MCP_RESOURCE || '';
const MCP_SCOPES = ['mcp:tools', 'mcp:deploy', 'mcp:admin'];

const appUrls = (process.env.APP_URLS || '').split(',').filter(Boolean);
const callbackNames = ['oidc', 'post', 'public', 'other', 'hs', 'signed', 'pkjwt', 'secretjwt', 'fapi'];
const extraRedirectUris = (process.env.EXTRA_REDIRECT_URIS || '').split(',').filter(Boolean);
const redirectUris = appUrls.flatMap((app) => ['auth', 'login'].flatMap((prefix) => callbackNames.map((n) => `${app}/${prefix}/${n}/callback`))).concat(extraRedirectUris);
const postLogoutRedirectUris = appUrls.flatMap((app) => [`${app}/`, `${app}/bye`]);
const webClient = (name, client_id, token_endpoint_auth_method, client_secret) => ({
  client_id,
  backchannel_logout_uri: `${appUrls[0]}/auth/${name}/backchannel-logout`,
  backchannel_logout_session_required: true,
  ...(client_secret ? { client_secret } : {}),
  token_endpoint_auth_method,
  grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
  response_types: ['code'],
  redirect_uris: redirectUris,
  post_logout_redirect_uris: postLogoutRedirectUris,
});

const privateJwks = [
  signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
  signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
  signingKey('ed25519', {}, 'EdDSA'),
];
const publicJwks = createLocalJWKSet({
  keys: privateJwks.map(({ kty, crv, n, e, x, y, alg, use, kid }) => ({ kty, crv, n, e, x, y, alg, use, kid })),
});
const clientJwks = process.env.CLIENT_JWKS ? JSON.parse(process.env.CLIENT_JWKS) : undefined;
const resourceServer = (client_id, token_endpoint_auth_method, extra) => ({
  client_id, token_endpoint_auth_method, grant_types: [], redirect_uris: [], response_types: [], ...extra,
});

const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

const provider = new Provider(issuer, {
  jwks: { keys: privateJwks },
  clients: [{
    client_id: 'interop-service',
    client_secret: 'interop-secret-interop-secret-interop-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    scope: 'read admin',
  }, {
    // A resource server: no grants, it only introspects.
    client_id: 'interop-rs',
    client_secret: 'interop-rs-secret-interop-rs-secret',
    grant_types: [],
    redirect_uris: [],
    response_types: [],
  },
  resourceServer('interop-rs-post', 'client_secret_post', { client_secret: 'interop-rs-post-secret-interop-rs-post' }),
  resourceServer('interop-rs-secretjwt', 'client_secret_jwt', { client_secret: 'interop-rs-secretjwt-secret-interop-rs-secretjwt' }),
  ...(clientJwks ? [
    resourceServer('interop-rs-pkjwt', 'private_key_jwt', { jwks: clientJwks }),
    {
      client_id: 'interop-service-pkjwt',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: clientJwks,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      scope: 'read admin',
    },
  ] : []),
  {
    // A middle-tier API: calls others with its own tokens or exchanged ones.
    client_id: 'interop-api',
    client_secret: 'interop-api-secret-interop-api-secret',
    grant_types: ['client_credentials', TOKEN_EXCHANGE, JWT_BEARER],
    redirect_uris: [],
    response_types: [],
    scope: 'read admin',
  },
  ...(appUrls.length ? [
    webClient('oidc', 'interop-web', 'client_secret_basic', 'interop-web-secret-interop-web-secret'),
    webClient('post', 'interop-post', 'client_secret_post', 'interop-post-secret-interop-post-secret'),
    webClient('public', 'interop-public', 'none'),
    // ID and logout tokens signed HS256 with the client secret (OpenID Connect Core §10.1).
    {
      ...webClient('hs', 'interop-hs', 'client_secret_basic', 'interop-hs-secret-interop-hs-secret-0123'),
      id_token_signed_response_alg: 'HS256',
    },
    // Signed client assertions (RFC 7523, OpenID Connect Core §9): private_key_jwt with
    // the public keys in $CLIENT_JWKS, and client_secret_jwt.
    ...(clientJwks ? [{
      ...webClient('pkjwt', 'interop-pkjwt', 'private_key_jwt'),
      jwks: clientJwks,
    }, {
      // Held to oidc-provider's FAPI 2.0 profile: private_key_jwt (assertions aimed at
      // the issuer), pushed authorization requests and PKCE required, DPoP-bound
      // tokens, ES256 ID tokens.
      ...webClient('fapi', 'interop-fapi', 'private_key_jwt'),
      jwks: clientJwks,
      require_pushed_authorization_requests: true,
      dpop_bound_access_tokens: true,
      id_token_signed_response_alg: 'ES256',
    }] : []),
    webClient('secretjwt', 'interop-secretjwt', 'client_secret_jwt', 'interop-secretjwt-secret-interop-secretjwt'),
    // Userinfo answered as a signed JWT, application/jwt (OpenID Connect Core §5.3.2).
    {
      ...webClient('signed', 'interop-signed', 'client_secret_basic', 'interop-signed-secret-interop-signed'),
      userinfo_signed_response_alg: 'ES256',
    },
  ] : []),
  ],
  scopes: ['openid', 'offline_access', 'profile', 'email', 'read', 'admin', ...(mcpResource ? MCP_SCOPES : [])],
  acrValues: ['urn:example:loa:1', 'urn:example:loa:2'],
  // The user's login, as RFC 9068 allows in access tokens: what a step-up check reads.
  extraTokenClaims: (ctx, token) => {
    if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
    const { AuthorizationCode, RefreshToken, DeviceCode } = ctx.oidc.entities;
    const login = AuthorizationCode || RefreshToken || DeviceCode;
    return login?.acr ? { acr: login.acr, auth_time: login.authTime } : undefined;
  },
  // acr and auth_time go into ID tokens when the request asks (acr_values, max_age).
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'], acr: null, auth_time: null },
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, name: `${id[0].toUpperCase()}${id.slice(1)} Example`, email: `${id}@example.com`, email_verified: true }),
  }),
  ttl: {
    AccessToken: Number(process.env.ACCESS_TOKEN_TTL || 3600),
    ClientCredentials: Number(process.env.CLIENT_CREDENTIALS_TTL || 600),
  },
  // Every refresh rotates the refresh token (RFC 9700 §4.14.2); reuse of a rotated one
  // revokes the grant, so clients must refresh one at a time.
  rotateRefreshToken: () => true,
  ...(process.env.ALWAYS_REFRESH_TOKENS === '1'
    ? { issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token') }
    : {}),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // Every outgoing call here goes to an app on 127.0.0.1, which the default dispatcher
  // (SSRF protection) would refuse.
  fetch: (url, options) => {
    const { dispatcher, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  // HS256 ID tokens (for `interop-hs`) besides the defaults.
  enabledJWA: {
    idTokenSigningAlgValues: ['HS256', 'RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'],
  },
  features: {
    jwtUserinfo: { enabled: true },
    clientCredentials: { enabled: true },
    deviceFlow: { enabled: true },
    backchannelLogout: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    // DPoP (RFC 9449): a token request with a `DPoP` proof gets a token bound to its key.
    dPoP: {
      enabled: true,
      ...(process.env.DPOP_NONCES === '1' ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}),
    },
    pushedAuthorizationRequests: {
      enabled: true,
      requirePushedAuthorizationRequests: process.env.REQUIRE_PAR === '1',
    },
    devInteractions: { enabled: false },
    fapi: { enabled: true, profile: (ctx, client) => (client?.clientId === 'interop-fapi' ? '2.0' : undefined) },
    registration: { enabled: Boolean(mcpResource) },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client) => (client.clientId === 'interop-service' ? 'urn:example:api:rs256' : undefined),
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (mcpResource && resource === mcpResource) {
          return { scope: MCP_SCOPES.join(' '), audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        }
        if (resource === OPAQUE_RESOURCE) {
          return { scope: 'read admin', audience: resource, accessTokenFormat: 'opaque' };
        }
        const alg = resources[resource];
        if (!alg) throw new errors.InvalidTarget();
        return { scope: 'read admin', audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg } } };
      },
    },
  },
});

// Token exchange (RFC 8693) and Entra ID's on-behalf-of: what the subject token says.
async function subjectOf(token) {
  if (token.split('.').length === 3) {
    const { payload } = await jwtVerify(token, publicJwks, { issuer });
    return payload;
  }
  const at = await provider.AccessToken.find(token);
  if (!at || at.isExpired) throw new Error('not active');
  return { sub: at.accountId, client_id: at.clientId };
}

const exchangeKey = await importJWK(privateJwks.find((k) => k.alg === 'ES256'), 'ES256');
const exchangeTtl = Number(process.env.EXCHANGE_TTL || 300);

async function exchange(ctx) {
  const { client, params } = ctx.oidc;
  const onBehalfOf = params.grant_type === JWT_BEARER;
  if (onBehalfOf && params.requested_token_use !== 'on_behalf_of') {
    throw new errors.InvalidRequest('requested_token_use must be on_behalf_of');
  }
  if (!onBehalfOf && params.subject_token_type !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
  }
  const subjectToken = onBehalfOf ? params.assertion : params.subject_token;
  if (!subjectToken) throw new errors.InvalidRequest(onBehalfOf ? 'assertion is missing' : 'subject_token is missing');
  let subject;
  try {
    subject = await subjectOf(subjectToken);
  } catch {
    throw new errors.InvalidGrant('the subject token is not valid');
  }
  if (!subject.sub) throw new errors.InvalidGrant('the subject token has no subject');
  // The target: `resource` or `audience`, or (Entra) the resource of `{resource}/{scope}`.
  const requested = (params.scope || '').split(' ').filter(Boolean);
  let target = params.resource || params.audience;
  let scopes = requested;
  if (!target && requested.length) {
    const at = requested[0].lastIndexOf('/');
    target = at > 0 ? requested[0].slice(0, at) : undefined;
    scopes = requested.map((s) => s.slice(s.lastIndexOf('/') + 1)).flatMap((s) => (s === '.default' ? ['read', 'admin'] : [s]));
  }
  if (!target || !resources[target]) throw new errors.InvalidTarget('the requested audience is unknown');
  const scope = scopes.filter((s) => s === 'read' || s === 'admin').join(' ');
  const now = Math.floor(Date.now() / 1000);
  const act = { sub: client.clientId, ...(subject.act ? { act: subject.act } : {}) };
  const accessToken = await new SignJWT({ client_id: client.clientId, act, ...(scope ? { scope } : {}) })
    .setProtectedHeader({ alg: 'ES256', kid: 'es256-key', typ: 'at+jwt' })
    .setIssuer(issuer)
    .setSubject(subject.sub)
    .setAudience(target)
    .setIssuedAt(now)
    .setExpirationTime(now + exchangeTtl)
    .setJti(randomUUID())
    .sign(exchangeKey);
  ctx.body = {
    access_token: accessToken,
    ...(onBehalfOf ? {} : { issued_token_type: ACCESS_TOKEN_TYPE }),
    token_type: 'Bearer',
    expires_in: exchangeTtl,
    ...(scope ? { scope } : {}),
  };
}
provider.registerGrantType(TOKEN_EXCHANGE, exchange, ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'resource', 'scope'], ['audience', 'resource']);
provider.registerGrantType(JWT_BEARER, exchange, ['assertion', 'requested_token_use', 'scope']);

async function formBody(req) {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  return Object.fromEntries(new URLSearchParams(raw));
}

const page = (title, body) => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;

// The login and consent pages (the provider's own dev pages are turned off).
provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/);
  if (!m) return next();
  const [, uid, action] = m;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
  const { prompt, params, session } = details;
  if (!action && ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = prompt.name === 'login'
      ? page('Sign in', `<form method="post" action="/interaction/${uid}/login">
          <input id="login" name="login" placeholder="user name" autofocus>
          <input id="password" name="password" type="password" placeholder="password">
          <input id="otp" name="otp" placeholder="one-time code (optional)">
          <button id="sign-in" type="submit">Sign in</button></form>
          <form method="post" action="/interaction/${uid}/abort"><button id="abort" type="submit">Cancel</button></form>`)
      : page('Allow access', `<p>${params.client_id} asks for: ${params.scope}</p>
          <form method="post" action="/interaction/${uid}/confirm"><button id="allow" type="submit">Allow</button></form>
          <form method="post" action="/interaction/${uid}/abort"><button id="abort" type="submit">Deny</button></form>`);
    return;
  }
  if (ctx.method !== 'POST') ctx.throw(405);
  let result;
  if (action === 'login') {
    const { login, otp } = await formBody(ctx.req);
    if (!login || login === 'nobody') {
      result = { error: 'access_denied', error_description: 'unknown user' };
    } else {
      result = otp
        ? { login: { accountId: login, acr: 'urn:example:loa:2', amr: ['pwd', 'otp'] } }
        : { login: { accountId: login, acr: 'urn:example:loa:1', amr: ['pwd'] } };
    }
  } else if (action === 'confirm') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    result = { consent: { grantId: await grant.save() } };
  } else {
    result = { error: 'access_denied', error_description: 'the user cancelled the login' };
  }
  ctx.respond = false;
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
});

provider.on('backchannel.error', (ctx, err, client) => console.log(`back-channel logout to ${client.clientId} failed: ${err.message}`));
provider.on('backchannel.success', (ctx, client, accountId, sid) => console.log(`back-channel logout to ${client.clientId}: ${accountId} ${sid}`));

console.log(`signing-keys: ${JSON.stringify(exported)}`);
provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
