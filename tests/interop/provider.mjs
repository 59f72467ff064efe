// A certified OpenID Provider on 127.0.0.1:$PORT for the interop tests.
// Access tokens are JWTs (RFC 9068) for three resources, one per signing algorithm.
import { generateKeyPairSync } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;

function signingKey(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `${alg.toLowerCase()}-key` };
}

const resources = {
  'urn:example:api:rs256': 'RS256',
  'urn:example:api:es256': 'ES256',
  'urn:example:api:eddsa': 'EdDSA',
};

const provider = new Provider(issuer, {
  jwks: {
    keys: [
      signingKey('rsa', { modulusLength: 2048 }, 'RS256'),
      signingKey('ec', { namedCurve: 'P-256' }, 'ES256'),
      signingKey('ed25519', {}, 'EdDSA'),
    ],
  },
  clients: [{
    client_id: 'interop-service',
    client_secret: 'interop-secret-interop-secret-interop-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    scope: 'read admin',
  }],
  scopes: ['read', 'admin'],
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:example:api:rs256',
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        const alg = resources[resource];
        if (!alg) throw new errors.InvalidTarget();
        return { scope: 'read admin', audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg } } };
      },
    },
  },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
