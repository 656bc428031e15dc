// A real OpenID Connect provider for the sign-in tests (the `oidc-provider` package), run as a
// process of its own: `node test/support/oidc-provider.mjs '<json settings>'`. It prints one line,
// `ready <issuer>`, once it serves. Its development login form takes any password for the accounts
// below; alice is in the approver group, victor only views.
import Provider from 'oidc-provider';

const settings = JSON.parse(process.argv[2] ?? '{}');
const accounts = {
  alice: { sub: 'alice', name: 'Alice Analyst', email: 'alice@soc.example.test', groups: ['spawnguard-approvers'] },
  victor: { sub: 'victor', name: 'Victor Viewer', email: 'victor@soc.example.test', groups: ['soc-viewers'] },
};

const issuer = `http://127.0.0.1:${settings.port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: settings.clientId,
      client_secret: settings.clientSecret,
      redirect_uris: [settings.redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
    // How an analyst's command-line tool gets its own access token (the tests' stand-in for it).
    ...(settings.cliRedirectUri
      ? [
          {
            client_id: 'spawnguard-cli',
            client_secret: settings.clientSecret,
            redirect_uris: [settings.cliRedirectUri],
            grant_types: ['authorization_code'],
            response_types: ['code'],
          },
        ]
      : []),
  ],
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: { openid: ['sub'], profile: ['name'], email: ['email'], groups: ['groups'] },
  findAccount: (_ctx, id) => (accounts[id] ? { accountId: id, claims: async () => ({ ...accounts[id] }) } : undefined),
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  cookies: { keys: ['spawnguard-test-provider-cookie-key'] },
});
provider.listen(settings.port, '127.0.0.1');
console.log(`ready ${issuer}`);
