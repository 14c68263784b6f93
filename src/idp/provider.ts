// The OAuth 2.0 / OpenID Connect core: oidc-provider 9 with every choice made explicitly.
import Provider, { errors, interactionPolicy } from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC, ClientMetadata } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Config } from '../config.ts';
import type { Store } from '../store/index.ts';
import { createAdapterFactory } from './adapter.ts';
import { CookieKeys } from '../http/cookie-keys.ts';
import { Accounts, accountClaims } from './accounts.ts';
import { renderView } from './views.ts';
import { OUTAGE_MESSAGE, OUTAGE_RETRY_AFTER_SECONDS, isStoreUnavailable } from '../http/outage.ts';
import { PAGE_CSP } from './views.ts';
import { ACR, ACR_VALUES, requestedAcrs, satisfies } from './signin/acr.ts';

export type ProviderDeps = {
  config: Config;
  store: Store;
  jwks: { keys: JWK[] };
  cookieKeys: string[];
  clients: ClientMetadata[];
};

export const SCOPES = ['openid', 'offline_access', 'profile', 'email'];

async function sendPage(ctx: KoaContextWithOIDC, view: string, data: Record<string, unknown>) {
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Security-Policy', PAGE_CSP);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = await renderView(view, { title: 'Selfie sign-in', ...data });
}

export function buildProviderConfiguration({ config, store, jwks, cookieKeys, clients }: ProviderDeps): Configuration {
  const accounts = new Accounts(store);
  return {
    adapter: createAdapterFactory({ store, fallbackTtl: config.ttl.session }),
    clients,
    jwks: jwks as Configuration['jwks'],
    cookies: {
      // A Keygrip-like signer (http/cookie-keys.ts), as oidc-provider accepts; the same signatures.
      keys: new CookieKeys(cookieKeys) as unknown as string[],
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    acrValues: ACR_VALUES,
    scopes: SCOPES,
    // amr only reaches the ID token when it is listed under a scope; openid is always granted.
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time', 'sid'],
      email: ['email', 'email_verified'],
      profile: ['name', 'updated_at'],
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    extraClientMetadata: {
      // first_party: our own apps; their users are not asked to consent.
      // allow_passkey_only: the client accepts urn:selfie-idp:acr:passkey (a passkey without a selfie).
      properties: ['first_party', 'allow_passkey_only'],
      validator(_ctx, key, value) {
        if ((key === 'first_party' || key === 'allow_passkey_only') && value !== undefined && typeof value !== 'boolean') {
          throw new errors.InvalidClientMetadata(`${key} must be a boolean`);
        }
      },
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      introspection: { enabled: true },
      userinfo: { enabled: true },
      // The `claims` request parameter: how an application asks for an essential acr.
      claimsParameter: { enabled: true },
      clientCredentials: { enabled: false },
      registration: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          await sendPage(ctx, 'logout', { form, clientName: ctx.oidc.client?.clientName ?? null });
        },
        async postLogoutSuccessSource(ctx) {
          await sendPage(ctx, 'logged-out', { clientName: ctx.oidc.client?.clientName ?? null });
        },
      },
    },
    ttl: {
      AccessToken: config.ttl.accessToken,
      AuthorizationCode: config.ttl.authorizationCode,
      IdToken: config.ttl.idToken,
      Interaction: config.ttl.interaction,
      Session: config.ttl.session,
      Grant: config.ttl.grant,
      RefreshToken: config.ttl.refreshToken,
      ClientCredentials: config.ttl.accessToken,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: interactionPolicyWithAcr(),
    },
    async findAccount(_ctx, sub) {
      const account = await accounts.findById(sub);
      if (!account) return undefined;
      return {
        accountId: account.id,
        claims: (_use, scope) => accountClaims(account, new Set(scope.split(' '))),
      };
    },
    async loadExistingGrant(ctx) {
      const session = ctx.oidc.session;
      const client = ctx.oidc.client;
      if (!session || !client) return undefined;
      const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (!(client as unknown as { first_party?: boolean }).first_party) return existing;
      // A first-party client gets what it asks for without a consent screen.
      const grant = existing ?? new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId! });
      const scope = [...(ctx.oidc.requestParamScopes ?? [])].join(' ');
      if (scope) grant.addOIDCScope(scope);
      const claims = [...(ctx.oidc.requestParamClaims ?? [])];
      if (claims.length) grant.addOIDCClaims(claims);
      await grant.save();
      return grant;
    },
    async renderError(ctx, out, error) {
      ctx.type = 'text/html; charset=utf-8';
      ctx.set('Content-Security-Policy', PAGE_CSP);
      const outage = isStoreUnavailable(error);
      ctx.body = await renderView('error', {
        title: 'Sign-in error',
        message: outage ? OUTAGE_MESSAGE : (out.error_description ?? 'The request could not be completed.'),
        code: outage ? 'temporarily_unavailable' : out.error,
        requestId: (ctx.state as { requestId?: string }).requestId ?? '',
      });
      void error;
    },
    enableHttpPostMethods: false,
  };
}

/**
 * oidc-provider prompts for login again only for an *essential* acr it does not see exactly. We
 * honour acr_values (voluntary by the spec) too: a session whose acr does not satisfy any of the
 * requested values signs in again (step-up); with prompt=none that is login_required.
 */
function interactionPolicyWithAcr() {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new interactionPolicy.Check('acr_not_satisfied', 'the session does not meet the requested authentication context', 'login_required', (ctx) => {
      const { oidc } = ctx;
      if (!oidc.session?.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const requested = requestedAcrs(oidc.params as Record<string, unknown>);
      // No request means "a sign-in this client accepts": a passkey-only session is one only for a
      // client that allows it (allow_passkey_only); for any other, the session must include a face.
      if (requested.length === 0) {
        const passkeyOnly = oidc.acr === ACR.passkey;
        const allowed = (oidc.client as unknown as { allow_passkey_only?: boolean } | undefined)?.allow_passkey_only === true;
        return passkeyOnly && !allowed ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
      }
      if (requested.some((r) => satisfies(oidc.acr, r))) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      return interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}

export function createProvider(deps: ProviderDeps): Provider {
  const provider = new Provider(deps.config.issuer, buildProviderConfiguration(deps));
  // A store outage inside the OAuth core (its adapter, findAccount) is a 503 with the OAuth
  // error temporarily_unavailable, not a 500 server_error: the error handler set the body already
  // (renderError for pages) and emits this before responding.
  provider.on('server_error', (ctx, err) => {
    if (!isStoreUnavailable(err)) return;
    ctx.status = 503;
    ctx.set('Retry-After', String(OUTAGE_RETRY_AFTER_SECONDS));
    if (ctx.body && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body)) ctx.body = { error: 'temporarily_unavailable', error_description: OUTAGE_MESSAGE };
  });
  provider.proxy = deps.config.trustProxy;
  // The provider is a Koa app of its own (we hand it the raw request): same client-IP rule as ours.
  provider.maxIpsCount = deps.config.trustProxyHops;
  // oidc-provider puts `sid` in ID tokens only for back-channel logout clients; relying parties
  // use it to match RP-initiated and future back-channel logouts, so every ID token carries it.
  provider.Client.prototype.includeSid = () => true;
  return provider;
}

/** Instantiates every static client now, so bad metadata stops start-up instead of a first login. */
export async function validateClients(provider: Provider, clients: ClientMetadata[]): Promise<void> {
  for (const metadata of clients) {
    try {
      const client = await provider.Client.find(metadata.client_id);
      if (!client) throw new Error('not found after registration');
    } catch (err) {
      const e = err as { error_description?: string; message: string };
      throw new Error(`CLIENTS_FILE: client "${metadata.client_id}": ${e.error_description ?? e.message}`);
    }
  }
}
