// A real OpenID Provider for the single sign-on tests: the certified `oidc-provider`
// package (npm), configured like an organization's identity provider would be.
//
//   node tests/oidc_server/server.mjs PORT
//
// Prints one line `ready <issuer>` on stdout when it listens on 127.0.0.1:PORT.
// What the tests add around the provider (under /_test/, never part of OpenID):
//   POST /_test/accounts  {id, email, email_verified?, name?, groups?, amr?, acr?}
//        a person who can sign in on the login page by typing their id or e-mail;
//        `amr` and `acr` are what the provider asserts about how they signed in.
//   POST /_test/tamper    {mode}   the next token response is altered in transit:
//        "payload"  one claim of the id_token changed, signature kept;
//        "resign"   the id_token signed again with a key that is not in the JWKS;
//        "none"     the id_token re-issued unsigned (alg "none");
//        ""         no tampering.
// Clients are registered with OpenID Dynamic Client Registration (POST /reg), so each
// test registers its own exact redirect URI.
import Provider from "oidc-provider";
import * as jose from "jose";

const port = Number(process.argv[2] || 0);
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: "test-signing-key", use: "sig", alg: "RS256" };

const accounts = new Map();
let tamperMode = "";

function findByLogin(login) {
  const wanted = String(login || "").trim().toLowerCase();
  for (const account of accounts.values()) {
    if (account.id.toLowerCase() === wanted || String(account.email || "").toLowerCase() === wanted) {
      return account;
    }
  }
  return undefined;
}

const configuration = {
  clients: [],
  jwks: { keys: [signingJwk] },
  cookies: { keys: ["oidc-test-cookie-key-1"] },
  claims: {
    // How the person signed in travels with the openid scope, as most providers send it.
    openid: ["sub", "acr", "amr", "auth_time"],
    email: ["email", "email_verified"],
    profile: ["name"],
    groups: ["groups"],
  },
  // The id_token carries the claims of the granted scopes (as Entra ID and Keycloak can),
  // not only the userinfo endpoint.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
  },
  // Every client must use PKCE, so a relying party that forgets it is refused.
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  // Consent is implied: this provider stands for an organization's own directory.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid email profile groups");
    grant.addOIDCClaims(["email", "email_verified", "name", "groups"]);
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const account = accounts.get(id);
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        const claims = { sub: id };
        if (account.email !== undefined) claims.email = account.email;
        claims.email_verified = account.email_verified ?? true;
        if (account.name) claims.name = account.name;
        if (account.groups !== undefined) claims.groups = account.groups;
        return claims;
      },
    };
  },
  ttl: { Session: 600, Interaction: 600, Grant: 600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
  renderError(ctx, out) {
    ctx.type = "html";
    ctx.body = page("Sign-in error", `<h1>Sign-in error</h1><p>${escape(out.error)}: ${escape(out.error_description || "")}</p>`);
  },
};

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>`
    + `<meta name="viewport" content="width=device-width, initial-scale=1"></head>`
    + `<body><main>${body}</main></body></html>`;
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function base64url(data) {
  return Buffer.from(data).toString("base64url");
}

async function tamper(idToken, mode) {
  const [header, payload, signature] = idToken.split(".");
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  if (mode === "payload") {
    claims.email = "intruder@" + String(claims.email || "x@example.org").split("@").pop();
    claims.groups = ["govsocial-admins"];
    return `${header}.${base64url(JSON.stringify(claims))}.${signature}`;
  }
  if (mode === "resign") {
    const { privateKey: other } = await jose.generateKeyPair("RS256");
    return new jose.SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "test-signing-key" }).sign(other);
  }
  if (mode === "none") {
    return `${base64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}.`;
  }
  return idToken;
}

const provider = new Provider(issuer, configuration);
provider.proxy = false;

provider.use(async (ctx, next) => {
  if (ctx.path === "/_test/accounts" && ctx.method === "POST") {
    const account = JSON.parse(await readBody(ctx.req));
    accounts.set(account.id, account);
    ctx.status = 204;
    return;
  }
  if (ctx.path === "/_test/tamper" && ctx.method === "POST") {
    tamperMode = JSON.parse(await readBody(ctx.req)).mode || "";
    ctx.status = 204;
    return;
  }
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (match) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (ctx.method === "GET") {
      const hint = details.params.login_hint || "";
      ctx.type = "html";
      ctx.body = page(
        "Sign in to the test identity provider",
        `<h1>Sign in to the test identity provider</h1>`
        + `<form method="post" action="/interaction/${escape(details.uid)}/login">`
        + `<p><label for="login">User name or e-mail address</label><br>`
        + `<input id="login" name="login" autocomplete="username" value="${escape(hint)}"></p>`
        + `<button type="submit">Sign in</button></form>`,
      );
      return;
    }
    if (ctx.method === "POST" && match[2]) {
      const form = new URLSearchParams(await readBody(ctx.req));
      const account = findByLogin(form.get("login"));
      const result = account
        ? { login: { accountId: account.id, amr: account.amr || ["pwd"], ...(account.acr ? { acr: account.acr } : {}) } }
        : { error: "access_denied", error_description: "unknown user" };
      await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
      ctx.respond = false;
      return;
    }
  }
  await next();
  if (ctx.path === "/token" && ctx.status === 200 && tamperMode && ctx.body && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, tamperMode) };
    tamperMode = "";
  }
});

const server = provider.listen(port, "127.0.0.1", () => {
  process.stdout.write(`ready ${issuer}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
