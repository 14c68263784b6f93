// The console's gate without a browser, on the real server (embedded store): the sign-in request
// it makes (its own client, code + PKCE, state, nonce, the required acr, a fresh login), what a
// callback without its start, with a forged state or with an unmet acr gets, and, with a console
// session, CSRF on changes, a revoked operator, sign-out and the idle timeout in the store.
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts } from '../../src/idp/accounts.ts';
import { CONSOLE_COOKIE, ConsoleSessions } from '../../src/idp/admin/session.ts';
import { AuditLog } from '../../src/idp/audit.ts';
import { loadConfig } from '../../src/config.ts';
import { configError, tempDir } from '../helpers/env.ts';
import { Browser, startTestServer, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { startServer } from '../../src/server.ts';
import { createLogger } from '../../src/logger.ts';

const COOKIE_KEY = 'console-test-cookie-key-0123456789abcdef';
let server: TestServer;
let issuer: string;

/** The signed cookie Koa would set (keygrip: HMAC-SHA1 of name=value, base64url). */
function consoleCookie(sessionId: string): string {
  const sig = createHmac('sha1', COOKIE_KEY).update(`${CONSOLE_COOKIE}=${sessionId}`).digest('base64').replace(/\//g, '_').replace(/\+/g, '-').replace(/=+$/, '');
  return `${CONSOLE_COOKIE}=${sessionId}; ${CONSOLE_COOKIE}.sig=${sig}`;
}

async function operatorSession(email: string) {
  const accounts = new Accounts(server.store);
  const { account } = await accounts.create({ email, name: 'Op' });
  await accounts.setOperator(account.id, true, 'cli');
  const session = await new ConsoleSessions(server.store, server.config.admin.idleMinutes, COOKIE_KEY).open({ cookies: { set() {} } } as never, account.id, 'urn:selfie-idp:acr:mfa');
  return { account, session, cookie: consoleCookie(session.id), csrf: new ConsoleSessions(server.store, 15, COOKIE_KEY).csrf(session) };
}

beforeAll(async () => {
  server = await startTestServer({ COOKIE_KEYS: COOKIE_KEY });
  issuer = server.config.issuer;
});
afterAll(() => server?.stop());

describe('operator console gate', () => {
  it('/admin asks the provider for a fresh sign-in at the required acr, as its own client with PKCE, state and nonce', async () => {
    const browser = new Browser();
    const first = await browser.fetch(`${issuer}/admin`);
    expect(first.status).toBe(302);
    expect(first.headers.get('location')).toBe('/admin/login');
    const login = await browser.fetch(`${issuer}/admin/login`);
    const auth = new URL(login.headers.get('location')!);
    expect(auth.origin + auth.pathname).toBe(`${issuer}/auth`);
    const p = Object.fromEntries(auth.searchParams);
    expect(p).toMatchObject({ client_id: 'selfie-idp-admin', response_type: 'code', scope: 'openid', acr_values: 'urn:selfie-idp:acr:mfa', prompt: 'login', code_challenge_method: 'S256', redirect_uri: `${issuer}/admin/callback` });
    expect(p.state!.length).toBeGreaterThan(20);
    expect(p.nonce!.length).toBeGreaterThan(20);
    // The provider knows the client: its request leads to our login page, not an error.
    const page = await browser.follow(auth, issuer);
    expect(page.url).toContain('/interaction/');
  });

  it('a callback nobody started, or with a forged code, is refused; an unmet acr gets the 403 page, audited', async () => {
    expect((await new Browser().fetch(`${issuer}/admin/callback?code=x&state=y`)).status).toBe(400);
    const browser = new Browser();
    const auth = new URL((await browser.fetch(`${issuer}/admin/login`)).headers.get('location')!);
    const state = auth.searchParams.get('state')!;
    expect((await browser.fetch(`${issuer}/admin/callback?code=forged&state=${state}`)).status).toBe(400);
    // The pending sign-in was used up by that attempt: the same state cannot be replayed.
    expect((await browser.fetch(`${issuer}/admin/callback?code=forged&state=${state}`)).status).toBe(400);

    const again = new Browser();
    const state2 = new URL((await again.fetch(`${issuer}/admin/login`)).headers.get('location')!).searchParams.get('state')!;
    const unmet = await again.fetch(`${issuer}/admin/callback?error=unmet_authentication_requirements&state=${state2}`);
    expect(unmet.status).toBe(403);
    expect(await unmet.text()).toContain('a passkey as well as the selfie');
    expect((await new AuditLog(server.store).list({ action: 'operator.denied' })).entries.length).toBeGreaterThanOrEqual(1);
    expect(server.logs.some((l) => l.includes('operator console: access refused'))).toBe(true);
  });

  it('with a console session: pages answer, a change needs the CSRF token, the session idles out in the store, sign-out ends it', async () => {
    const { account, session, cookie, csrf } = await operatorSession('op1@example.com');
    const get = (p: string) => fetch(`${issuer}${p}`, { headers: { cookie }, redirect: 'manual' });
    const post = (p: string, form: Record<string, string>) => fetch(`${issuer}${p}`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString(), redirect: 'manual' });
    const page = await get('/admin/accounts?q=op1');
    expect(page.status).toBe(200);
    // docs/operations.md: the console runs no script at all, and its CSP says so (probe: it allowed 'self').
    expect(page.headers.get('content-security-policy')).toContain("script-src 'none'");
    expect(page.headers.get('content-security-policy')).not.toContain("script-src 'self'");
    expect(await page.text()).toContain('op1@example.com');
    // No cookie, or a cookie with a forged signature: no console.
    expect((await fetch(`${issuer}/admin/accounts`, { redirect: 'manual', headers: { cookie: `${CONSOLE_COOKIE}=${session.id}; ${CONSOLE_COOKIE}.sig=forged` } })).status).toBe(302);

    expect((await post(`/admin/accounts/${account.id}/unlock`, {})).status).toBe(403);
    expect((await post(`/admin/accounts/${account.id}/unlock`, { csrf: 'wrong' })).status).toBe(403);
    expect((await post(`/admin/accounts/${account.id}/unlock`, { csrf })).status).toBe(303);
    expect((await post(`/admin/accounts/${account.id}/delete`, { csrf, confirm: account.email })).status).toBe(400); // not their own account

    const ttl = await server.store.ttl(`admin-session:${session.id}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(server.config.admin.idleMinutes * 60);

    expect((await post('/admin/logout', { csrf })).status).toBe(200);
    expect((await get('/admin/accounts')).status).toBe(302);
    expect((await post(`/admin/accounts/${account.id}/unlock`, { csrf })).status).toBe(401);
  });

  it('revoking an operator ends every console session of theirs at once (probe: they lived until their next request)', async () => {
    const { account, session, cookie } = await operatorSession('op2@example.com');
    const other = await operatorSession('op2b@example.com');
    const second = await new ConsoleSessions(server.store, server.config.admin.idleMinutes, COOKIE_KEY).open({ cookies: { set() {} } } as never, account.id, 'urn:selfie-idp:acr:mfa');
    const get = (c = cookie) => fetch(`${issuer}/admin/audit`, { headers: { cookie: c }, redirect: 'manual' });
    expect((await get()).status).toBe(200);
    await new Accounts(server.store).setOperator(account.id, false, 'cli');
    // Both of their sessions are gone from the store, before any request.
    expect(await server.store.get(`admin-session:${session.id}`)).toBeUndefined();
    expect(await server.store.get(`admin-session:${second.id}`)).toBeUndefined();
    expect((await get()).status).toBe(302);
    expect((await get(consoleCookie(second.id))).status).toBe(302);
    // Another operator's session is untouched.
    expect((await get(other.cookie)).status).toBe(200);
  });

  it('the account page refuses changes without a sign-in', async () => {
    for (const p of ['/account/delete', '/account/re-enrol', '/account/passkeys/delete']) {
      const res = await fetch(`${issuer}${p}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=x', redirect: 'manual' });
      expect(res.status).toBe(401);
    }
    expect((await fetch(`${issuer}/account/data`)).status).toBe(401);
  });
});

describe('console configuration', () => {
  it('admin.requiredAcr must be one of the face acrs; CLIENTS_FILE cannot take the console client id', async () => {
    const dir = tempDir('admin-config');
    try {
      const defaults = JSON.parse((await import('node:fs')).readFileSync(path.join(import.meta.dirname, '..', '..', 'config', 'default.json'), 'utf8'));
      const file = path.join(dir.dir, 'config.json');
      writeFileSync(file, JSON.stringify({ ...defaults, admin: { ...defaults.admin, requiredAcr: 'urn:selfie-idp:acr:passkey' } }));
      expect(configError(() => loadConfig({ CONFIG_FILE: file }))).toMatch(/admin\.requiredAcr: must be urn:selfie-idp:acr:mfa/);

      const clients = path.join(dir.dir, 'clients.json');
      writeFileSync(clients, JSON.stringify([{ ...TEST_CLIENTS[0], client_id: 'selfie-idp-admin' }]), { mode: 0o600 });
      const config = loadConfig({ DATA_DIR: dir.dir, CLIENTS_FILE: clients, PORT: '0', METRICS_PORT: '0', COOKIE_KEYS: COOKIE_KEY, LOG_LEVEL: 'silent' });
      await expect(startServer(config, createLogger('silent'), { verification: { baseUrl: 'http://127.0.0.1:9', apiKey: 'x', webhookSecret: 'unused-webhook-secret-0123456789', reauthWorkflowId: 'r', enrolWorkflowId: 'e' } })).rejects.toThrow(/selfie-idp-admin/);
    } finally {
      dir.remove();
    }
  });
});
