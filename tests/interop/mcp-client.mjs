// The official MCP TypeScript SDK as a client of the MCP server at $MCP_URL: its own
// `auth()` flow from the first 401 (protected resource metadata, authorization server
// metadata, dynamic client registration, authorization code with PKCE and `resource`,
// token), then `initialize` and the tools. The provider's login and consent forms are
// filled over HTTP as user $MCP_USER. One JSON line per checkpoint on stdout; exit 1 on
// failure.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

const mcpUrl = new URL(process.env.MCP_URL);
const user = process.env.MCP_USER || 'alice';
// Never served: the authorization response is read from the redirect's Location.
const redirectUrl = 'http://127.0.0.1:9/callback';

const step = (name, details = {}) => console.log(JSON.stringify({ step: name, ...details }));

// Every request the SDK sends, to show the flow it took.
const seen = [];
const fetchSeen = async (url, init) => {
  const response = await fetch(url, init);
  seen.push({ method: init?.method || 'GET', url: String(url), status: response.status });
  return response;
};

class Provider {
  constructor() { this.saved = {}; }
  get redirectUrl() { return redirectUrl; }
  get clientMetadata() {
    return {
      client_name: 'oauth2-tests MCP client',
      redirect_uris: [redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() { return this.saved.client; }
  saveClientInformation(client) { this.saved.client = client; }
  tokens() { return this.saved.tokens; }
  saveTokens(tokens) { this.saved.tokens = tokens; }
  redirectToAuthorization(url) { this.saved.authorizationUrl = url; }
  saveCodeVerifier(verifier) { this.saved.verifier = verifier; }
  codeVerifier() { return this.saved.verifier; }
}

// The user's part at the provider: follow redirects with cookies, fill the login and
// consent forms, until the redirect to the client's callback; its `code`.
async function logIn(authorizationUrl) {
  const jar = new Map();
  const send = async (url, init = {}) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers || {}), cookie } });
    for (const c of response.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const at = pair.indexOf('=');
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  };
  let url = new URL(authorizationUrl);
  for (let hops = 0; hops < 20; hops += 1) {
    if (url.href.startsWith(redirectUrl)) {
      const error = url.searchParams.get('error');
      if (error) throw new Error(`authorization failed: ${error} ${url.searchParams.get('error_description')}`);
      return url.searchParams.get('code');
    }
    let response = await send(url);
    if (response.status === 200) {
      const page = await response.text();
      const action = page.match(/action="(\/interaction\/[^"]+\/(?:login|confirm))"/)?.[1];
      if (!action) throw new Error(`no form at ${url}: ${page.slice(0, 300)}`);
      const body = action.endsWith('/login') ? new URLSearchParams({ login: user, password: 'x' }) : new URLSearchParams();
      response = await send(new URL(action, url), {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    }
    const location = response.headers.get('location');
    if (!location) throw new Error(`no redirect from ${url}: HTTP ${response.status} ${await response.text()}`);
    url = new URL(location, url);
  }
  throw new Error('too many redirects');
}

async function main() {
  const provider = new Provider();
  const client = new Client({ name: 'oauth2-tests', version: '1.0.0' });
  let transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: fetchSeen });
  try {
    await client.connect(transport);
    throw new Error('connected without a token');
  } catch (e) {
    if (!(e instanceof UnauthorizedError)) throw e;
  }
  const authorizationUrl = provider.saved.authorizationUrl;
  step('authorization-requested', {
    seen: seen.map((s) => `${s.method} ${new URL(s.url).pathname} ${s.status}`),
    client_id: provider.saved.client?.client_id,
    resource: authorizationUrl.searchParams.get('resource'),
    scope: authorizationUrl.searchParams.get('scope'),
    code_challenge_method: authorizationUrl.searchParams.get('code_challenge_method'),
  });
  const code = await logIn(authorizationUrl);
  await transport.finishAuth(code);
  const access = provider.saved.tokens.access_token;
  const claims = JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString());
  step('token', { aud: claims.aud, scope: claims.scope, sub: claims.sub });

  transport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider, fetch: fetchSeen });
  await client.connect(transport);
  step('initialized', { server: client.getServerVersion()?.name });
  const tools = await client.listTools();
  step('tools', { names: tools.tools.map((t) => t.name) });
  for (const name of ['whoami', 'deploy']) {
    const result = await client.callTool({ name, arguments: {} });
    step(`called-${name}`, { text: result.content?.[0]?.text, isError: Boolean(result.isError) });
  }
  await client.close();
  step('done');
}

main().catch((e) => {
  step('failed', { error: String(e?.stack || e), seen });
  process.exit(1);
});
