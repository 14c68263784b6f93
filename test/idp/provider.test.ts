// The OAuth core through a real relying-party library (openid-client 6) and a cookie-keeping
// fetch: discovery, JWKS, PKCE, the interaction page, tokens carrying amr/acr, refresh,
// introspection, revocation and RP-initiated logout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { Browser, startTestServer, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { authorizationRequest } from '../helpers/rp.ts';
import { Accounts } from '../../src/idp/accounts.ts';

const REDIRECT = 'http://127.0.0.1:1/cb';
let server: TestServer;
let issuer: string;

async function client(id: 'first-party' | 'third-party') {
  const meta = TEST_CLIENTS.find((c) => c.client_id === id)!;
  return oidc.discovery(new URL(issuer), meta.client_id, meta.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
}

async function startAuthorization(config: oidc.Configuration, extra: Record<string, string> = {}) {
  const { url, verifier, state } = await authorizationRequest(config, REDIRECT, extra);
  const browser = new Browser();
  const res = await browser.fetch(url);
  return { browser, res, verifier, state };
}

/**
 * Completes the login prompt the way the login app will: by storing a login result on the
 * interaction and resuming at its returnTo. No route in the product does this without a face.
 */
async function completeLogin(browser: Browser, interactionPath: string, login: { accountId: string; amr: string[]; acr: string }) {
  const uid = interactionPath.split('/').pop()!;
  const interaction = await server.provider.Interaction.find(uid);
  expect(interaction).toBeDefined();
  interaction!.result = { login: { ...login, remember: true, ts: Math.floor(Date.now() / 1000) } };
  await interaction!.save(interaction!.exp - Math.floor(Date.now() / 1000));
  return browser.follow(interaction!.returnTo, issuer);
}

beforeAll(async () => {
  server = await startTestServer();
  issuer = server.config.issuer;
});
afterAll(async () => server.stop());

describe('discovery and keys', () => {
  it('advertises the claims, scopes, acr values and S256 PKCE', async () => {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const d = await res.json();
    expect(d.issuer).toBe(issuer);
    expect(d.claims_supported).toEqual(expect.arrayContaining(['sub', 'amr', 'acr', 'auth_time', 'sid', 'email', 'name']));
    expect(d.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']));
    expect(d.acr_values_supported).toEqual(['urn:selfie-idp:acr:face', 'urn:selfie-idp:acr:face-active', 'urn:selfie-idp:acr:mfa', 'urn:selfie-idp:acr:passkey']);
    expect(d.code_challenge_methods_supported).toEqual(['S256']);
    expect(d.response_types_supported).toEqual(['code']);
    expect(d.revocation_endpoint).toBe(`${issuer}/token/revocation`);
    expect(d.introspection_endpoint).toBe(`${issuer}/token/introspection`);
    expect(d.end_session_endpoint).toBe(`${issuer}/session/end`);
  });

  it('publishes RS256 and ES256 public keys only', async () => {
    const { keys } = await (await fetch(`${issuer}/jwks`)).json();
    expect(keys.map((k: { alg: string }) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    for (const key of keys) {
      expect(key.d).toBeUndefined();
      expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  });
});

describe('authorization requests', () => {
  it('a PKCE request lands on the interaction page with the interaction cookies', async () => {
    const { res, browser } = await startAuthorization(await client('first-party'));
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location).toMatch(/^\/interaction\/[A-Za-z0-9_-]+$/);
    expect(browser.cookies.has('_interaction')).toBe(true);
    expect(browser.cookies.has('_interaction.sig')).toBe(true);
    expect(browser.cookies.has('_interaction_resume')).toBe(true);
    const page = await browser.fetch(new URL(location, issuer));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('Continue with a selfie');
    expect(html).toMatch(/<input type="email"/);
    expect(html).not.toContain('type="password"');
    expect(html).not.toMatch(/fonts\.googleapis|https?:\/\/(?!127\.0\.0\.1)/);
  });

  it('refuses an authorization request without PKCE, even from a confidential client', async () => {
    const config = await client('first-party');
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', state: 'x' });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get('error')).toBe('invalid_request');
    expect(back.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('refuses the plain PKCE method', async () => {
    const config = await client('first-party');
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid',
      code_challenge: 'a'.repeat(43),
      code_challenge_method: 'plain',
    });
    const res = await fetch(url, { redirect: 'manual' });
    const back = new URL(res.headers.get('location')!);
    expect(back.searchParams.get('error')).toBe('invalid_request');
  });

  it('shows our own error page for an unknown client, with no third-party resources', async () => {
    const res = await fetch(`${issuer}/auth?client_id=nobody&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT)}`);
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('Something went wrong');
    expect(html).toContain('invalid_client');
    expect(html).not.toMatch(/googleapis|<script/);
  });

  it('an expired or foreign interaction gives a readable page, not a stack trace', async () => {
    const res = await fetch(`${issuer}/interaction/does-not-exist`, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('This sign-in has expired');
  });

  it('abort refuses a missing CSRF token and returns access_denied with a valid one', async () => {
    const { browser, res } = await startAuthorization(await client('first-party'));
    const path = res.headers.get('location')!;
    const html = await (await browser.fetch(new URL(path, issuer))).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    const forged = await browser.fetch(new URL(`${path}/abort`, issuer), { ...form, body: 'csrf=forged', headers: { ...form.headers, accept: 'application/json' } });
    expect(forged.status).toBe(403);
    const ok = await browser.fetch(new URL(`${path}/abort`, issuer), { ...form, body: `csrf=${encodeURIComponent(csrf)}` });
    expect(ok.status).toBe(303);
    const { url } = await browser.follow(new URL(ok.headers.get('location')!, issuer), issuer);
    expect(new URL(url).searchParams.get('error')).toBe('access_denied');
  });
});

describe('a completed login', () => {
  let accountId: string;
  beforeAll(async () => {
    const { account } = await new Accounts(server.store).create({ email: 'ada@example.com', name: 'Ada Lovelace' });
    accountId = account.id;
  });

  it('puts amr, acr, auth_time and sid into the ID token, and claims by scope into userinfo', async () => {
    const config = await client('first-party');
    const { browser, res, verifier, state } = await startAuthorization(config, { nonce: 'n-1' });
    const done = await completeLogin(browser, res.headers.get('location')!, { accountId, amr: ['face'], acr: server.config.acr.face });
    expect(done.url.startsWith(REDIRECT)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: 'n-1' });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(accountId);
    expect(claims.amr).toEqual(['face']);
    expect(claims.acr).toBe(server.config.acr.face);
    expect(typeof claims.auth_time).toBe('number');
    expect(Math.abs((claims.auth_time as number) - Date.now() / 1000)).toBeLessThan(30);
    expect(typeof claims.sid).toBe('string');
    const info = await oidc.fetchUserInfo(config, tokens.access_token, accountId);
    expect(info).toMatchObject({ sub: accountId, email: 'ada@example.com', name: 'Ada Lovelace' });
  });

  it('an authorization code works once; the token endpoint needs the right PKCE verifier', async () => {
    const config = await client('first-party');
    const { browser, res, state } = await startAuthorization(config);
    const done = await completeLogin(browser, res.headers.get('location')!, { accountId, amr: ['face'], acr: server.config.acr.face });
    const wrong = oidc.randomPKCECodeVerifier();
    await expect(oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: wrong, expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('issues refresh tokens for offline_access, and introspection and revocation work', async () => {
    const config = await client('first-party');
    const { browser, res, verifier, state } = await startAuthorization(config, { scope: 'openid offline_access', prompt: 'consent' });
    const consent = await completeLogin(browser, res.headers.get('location')!, { accountId, amr: ['face'], acr: server.config.acr.face });
    // prompt=consent shows the consent page even to a first-party client.
    expect(consent.url).toMatch(/\/interaction\//);
    const html = await consent.res.text();
    expect(html).toContain('Stay signed in');
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const allowed = await browser.fetch(`${consent.url}/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf=${encodeURIComponent(csrf)}`,
    });
    expect(allowed.status).toBe(303);
    const done = await browser.follow(new URL(allowed.headers.get('location')!, issuer), issuer);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.refresh_token).toBeTruthy();
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(decodeJwt(refreshed.id_token!).amr).toEqual(['face']);
    const active = await oidc.tokenIntrospection(config, refreshed.access_token);
    expect(active.active).toBe(true);
    expect(active.sub).toBe(accountId);
    await oidc.tokenRevocation(config, refreshed.access_token);
    expect((await oidc.tokenIntrospection(config, refreshed.access_token)).active).toBe(false);
  });

  it('a third-party client without a grant is sent back to the interaction for consent', async () => {
    const config = await client('third-party');
    const { browser, res } = await startAuthorization(config);
    const done = await completeLogin(browser, res.headers.get('location')!, { accountId, amr: ['face'], acr: server.config.acr.face });
    expect(done.url).toMatch(/\/interaction\//);
    const uid = done.url.split('/').pop()!;
    const interaction = await server.provider.Interaction.find(uid);
    expect(interaction!.prompt.name).toBe('consent');
  });

  it('RP-initiated logout shows our confirmation and ends the session', async () => {
    const config = await client('first-party');
    const { browser, res, verifier, state } = await startAuthorization(config);
    const done = await completeLogin(browser, res.headers.get('location')!, { accountId, amr: ['face'], acr: server.config.acr.face });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state });
    const endUrl = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://127.0.0.1:1/bye' });
    const confirm = await browser.fetch(endUrl);
    expect(confirm.status).toBe(200);
    const html = await confirm.text();
    expect(html).toContain('Sign out');
    expect(confirm.headers.get('content-security-policy')).toContain("default-src 'none'");
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const out = await browser.fetch(`${issuer}/session/end/confirm`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('http://127.0.0.1:1/bye');
    // The session is gone: a new authorization needs a new login.
    const again = await browser.fetch(oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' }));
    expect(again.headers.get('location')).toMatch(/^\/interaction\//);
  });
});

describe('operations', () => {
  it('healthz and readyz answer on the public port; metrics only on their own listener', async () => {
    expect(await (await fetch(`${issuer}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${issuer}/readyz`)).json()).toEqual({ status: 'ready', store: 'ok' });
    const res = await fetch(server.metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const metrics = await res.text();
    expect(metrics).toMatch(/selfie_idp_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} \d+/);
    expect(metrics).toContain('selfie_idp_store_errors_total');
    expect(metrics).toContain('selfie_idp_process_cpu_seconds_total');
  });

  it('the public port answers 404 for /metrics', async () => {
    for (const path of ['/metrics', '/metrics/', '/metrics?x=1']) {
      const res = await fetch(`${issuer}${path}`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('selfie_idp_');
    }
  });

  it('the metrics listener is on 127.0.0.1 (METRICS_PORT=0: a free port), apart from the public one, and says where in the log', async () => {
    const metricsUrl = new URL(server.metricsUrl);
    expect(metricsUrl.hostname).toBe('127.0.0.1');
    expect(metricsUrl.port).not.toBe(new URL(issuer).port);
    expect(metricsUrl.port).not.toBe('0');
    expect(server.logs.some((l) => l.includes('metrics listening') && l.includes(server.metricsUrl))).toBe(true);
    expect((await fetch(new URL('/healthz', metricsUrl))).status).toBe(404);
  });

  it('echoes a request id, sets security headers, and logs without secrets or query strings', async () => {
    const res = await fetch(`${issuer}/healthz?login_hint=secret-person@example.com`, { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const line = server.logs.find((l) => l.includes('"requestId":"abc-123"'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ path: '/healthz', status: 200 });
    expect(server.logs.join('')).not.toContain('secret-person');
    expect(server.logs.join('')).not.toMatch(/"d":"|client_secret/);
  });
});
