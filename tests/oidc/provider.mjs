// A certified OpenID Provider (npm `oidc-provider`) on loopback, for the single sign-on
// black-box tests (tests/blackbox/sso.rs); started by crates/test-services (`Kind::Oidc`).
//
//   node provider.mjs <port>    with CLIENT_ID, CLIENT_SECRET, REDIRECT_URI set
//
// One static client. `devInteractions` serves the login and consent forms; any login is
// an account whose email is the login, verified unless it starts with "unverified".
// With ID_TOKEN_AUDIENCE set, the provider misbehaves: it re-signs every ID token it
// issues (with its own key) for that audience instead of the client.
import Provider from 'oidc-provider';
import * as jose from 'jose';

const port = Number(process.argv[2]);
const { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, ID_TOKEN_AUDIENCE } = process.env;
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await jose.exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  jwks: { keys: [signingKey] },
  features: { devInteractions: { enabled: true } },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // Put the email claims into the ID token, as Google does.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: [jose.base64url.encode(crypto.getRandomValues(new Uint8Array(32)))] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: !id.startsWith('unverified') };
      },
    };
  },
});

if (ID_TOKEN_AUDIENCE) {
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.path === '/token' && ctx.body?.id_token) {
      const claims = jose.decodeJwt(ctx.body.id_token);
      const idToken = await new jose.SignJWT({ ...claims, aud: ID_TOKEN_AUDIENCE })
        .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid })
        .sign(privateKey);
      ctx.body = { ...ctx.body, id_token: idToken };
    }
  });
}

provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
