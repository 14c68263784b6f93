// The console is an OpenID Connect client of this very provider: an internal confidential client,
// registered at start beside CLIENTS_FILE's, whose secret is derived from the first cookie key (so
// every instance with the same keys agrees on it, and nobody has to configure it).
import { createHmac } from 'node:crypto';
import type { ClientMetadata } from 'oidc-provider';
import * as oidc from 'openid-client';

export const CONSOLE_CLIENT_ID = 'selfie-idp-admin';

export function consoleClientSecret(cookieKey: string): string {
  return createHmac('sha256', cookieKey).update('selfie-idp console client secret').digest('base64url');
}

export const consoleRedirectUri = (issuer: string) => `${issuer}/admin/callback`;

export function consoleClientMetadata(issuer: string, cookieKey: string): ClientMetadata {
  return {
    client_id: CONSOLE_CLIENT_ID,
    client_secret: consoleClientSecret(cookieKey),
    client_name: 'Operator console',
    redirect_uris: [consoleRedirectUri(issuer)],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    first_party: true,
  } as ClientMetadata;
}

/**
 * openid-client's view of the provider, without a discovery request: the endpoints are ours
 * (oidc-provider's defaults). `internalUrl` is where this instance listens: the token and JWKS
 * requests go there, not out through the public address and back in.
 */
export function consoleClient(issuer: string, cookieKey: string, internalUrl: () => string | undefined): oidc.Configuration {
  const config = new oidc.Configuration(
    { issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks` },
    CONSOLE_CLIENT_ID,
    consoleClientSecret(cookieKey),
  );
  if (issuer.startsWith('http:')) oidc.allowInsecureRequests(config);
  config[oidc.customFetch] = (url, options) => {
    const inside = internalUrl();
    const target = inside && url.startsWith(issuer) ? inside + url.slice(issuer.length) : url;
    return fetch(target, options as RequestInit);
  };
  return config;
}
