// The token server for scripts/interop-test --auth: an OpenID provider (npm
// oidc-provider) that issues SMART Backend Services tokens (client_credentials, the
// client authenticated by a private_key_jwt assertion signed ES384, with a kid) as
// JWTs for the FHIR server's audience, which the server checks against /jwks.
//
//   node interop-token-server.mjs PORT CLIENT_KEY.pem AUDIENCE          serve
//   node interop-token-server.mjs --token PORT CLIENT_KEY.pem AUDIENCE  print a token
import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const CLIENT_ID = 'vaxentry-interop';
const KEY_ID = 'vaxentry-es384';
// SMART v2 scope syntax: Helios reads no other (see README, Interoperability).
const SCOPE =
  'system/Immunization.cruds system/Patient.crs system/Practitioner.crs system/Location.crs system/Organization.crs';

const args = process.argv.slice(2);
const asClient = args[0] === '--token';
const [port, keyFile, audience] = asClient ? args.slice(1) : args;
const issuer = `http://127.0.0.1:${port}`;
const clientKey = createPrivateKey(readFileSync(keyFile));

if (asClient) {
  // A token for the checks the script makes itself, got the way vaxentry gets one.
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES384', kid: KEY_ID, typ: 'JWT' })
    .setIssuer(CLIENT_ID)
    .setSubject(CLIENT_ID)
    .setAudience(`${issuer}/token`)
    .setIssuedAt()
    .setExpirationTime('4m')
    .setJti(randomUUID())
    .sign(clientKey);
  const answer = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope: SCOPE,
    }),
  });
  const body = await answer.json();
  if (!answer.ok) {
    console.error(JSON.stringify(body));
    process.exit(1);
  }
  console.log(body.access_token);
  process.exit(0);
}

const { default: Provider } = await import('oidc-provider');
const clientJwk = {
  ...(await exportJWK(createPublicKey(clientKey))),
  kid: KEY_ID,
  alg: 'ES384',
  use: 'sig',
};
const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'token-signing', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: CLIENT_ID,
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES384',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: SCOPE,
      jwks: { keys: [clientJwk] },
    },
  ],
  scopes: SCOPE.split(' '),
  clientAuthMethods: ['private_key_jwt'],
  enabledJWA: { clientAuthSigningAlgValues: ['ES384', 'RS384'] },
  jwks: { keys: [signingJwk] },
  routes: { token: '/token', jwks: '/jwks' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: SCOPE,
        audience,
        accessTokenFormat: 'jwt',
        accessTokenTTL: 300,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.on('grant.error', (ctx, err) => console.error('grant.error', err.message, err.error_description ?? ''));
provider.listen(Number(port), '127.0.0.1');
console.log(`token server on ${issuer}`);
