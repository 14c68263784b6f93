// Passkeys in Chromium with a CDP virtual authenticator (WebAuthn.addVirtualAuthenticator), the
// IdP on http://localhost (WebAuthn needs a domain, not an IP) against the Didit double (the test
// decides each selfie's verdict): the offer after a face sign-in registers a passkey; an mfa
// sign-in is passkey then selfie in one interaction, and its ID token says acr mfa, amr face+mfa;
// a passkey of another account is refused.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config.ts';
import { Accounts } from '../../src/idp/accounts.ts';
import { Passkeys } from '../../src/idp/passkeys/passkeys.ts';
import { CHROMIUM } from '../helpers/chromium.ts';
import { remoteModeEnv, startDiditDouble } from '../helpers/didit-double.ts';
import type { DiditDouble } from '../helpers/didit-double.ts';
import { tempDir } from '../helpers/env.ts';
import { authorizationRequest } from '../helpers/rp.ts';
import { freePort, startTestServer, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const tmp = tempDir('passkey-e2e');
let double: DiditDouble;
let server: TestServer;
let rpServer: Server;
let browser: Browser;
let page: Page;
let REDIRECT: string;
let issuer: string;
let adaId: string;
let bobId: string;
const CLIENT = () => ({ ...TEST_CLIENTS[0]!, redirect_uris: [REDIRECT] });
/** A client whose metadata allows a passkey without a selfie (acr passkey). */
const PASSKEY_CLIENT = () => ({ ...TEST_CLIENTS[0]!, client_id: 'passkey-ok', redirect_uris: [REDIRECT], allow_passkey_only: true });

beforeAll(async () => {
  double = await startDiditDouble();
  rpServer = createServer((_req, res) => res.end('back at the app'));
  await new Promise<void>((r) => rpServer.listen(0, '127.0.0.1', () => r()));
  REDIRECT = `http://127.0.0.1:${(rpServer.address() as { port: number }).port}/cb`;
  const clientsFile = path.join(tmp.dir, 'clients.json');
  writeFileSync(clientsFile, JSON.stringify([CLIENT(), PASSKEY_CLIENT()]), { mode: 0o600 });
  const port = await freePort();
  server = await startTestServer(
    {
      ISSUER: `http://localhost:${port}`,
      CLIENTS_FILE: clientsFile,
      ...remoteModeEnv(double, { reauthWorkflowId: 'wf-passive' }),
    },
    { port, signin: { lookupsPerIpPerHour: 1000 }, config: { passkeys: { offerAfterFaceSignin: true } } },
  );
  issuer = server.config.issuer;
  double.setWebhookUrl(`http://127.0.0.1:${port}/webhooks/didit`);
  const accounts = new Accounts(server.store);
  adaId = (await accounts.create({ email: 'ada@example.com', name: 'Ada' })).account.id;
  await accounts.markEnrolled(adaId);
  bobId = (await accounts.create({ email: 'bob@example.com', name: 'Bob' })).account.id;
  await accounts.markEnrolled(bobId);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  page = await (await browser.newContext({ locale: 'en-GB' })).newPage();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await double?.close();
  await new Promise((r) => rpServer?.close(r));
  tmp.remove();
});

async function rpConfig(client = CLIENT()) {
  return oidc.discovery(new URL(issuer), client.client_id, client.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
}

/** The double's newest unfinished session of an account, once the IdP has opened it. */
async function openedSession(accountId: string) {
  for (let i = 0; i < 200; i++) {
    const s = [...double.sessions.values()].reverse().find((x) => x.vendor_data === accountId && x.status === 'Not Started');
    if (s) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no verification session was opened for ${accountId}`);
}

/** The selfie of the sign-in on the page: the service approves it (webhook), the page comes back. */
async function approveSelfie(accountId: string) {
  const session = await openedSession(accountId);
  await double.complete(session.session_id, 'Approved');
  return session;
}

async function faceSigninThenRegister(email: string, accountId: string) {
  const config = await rpConfig();
  const { url } = await authorizationRequest(config, REDIRECT, { login_hint: email, prompt: 'login' });
  await page.goto(url.href);
  await page.getByRole('button', { name: 'Continue with a selfie' }).click();
  await approveSelfie(accountId);
  const offer = page.getByRole('button', { name: 'Use this device next time' });
  await offer.waitFor({ timeout: 20_000 });
  await offer.click();
  await page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 20_000 });
}

describe('passkeys in Chromium', () => {
  const passkeys = () => new Passkeys(server.store, issuer);

  it('the offer after a face sign-in registers a passkey on this device', async () => {
    await faceSigninThenRegister('ada@example.com', adaId);
    const list = await passkeys().list(adaId);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ accountId: adaId, deviceType: 'singleDevice' });
  });

  it('acr mfa: passkey first, then the selfie, one interaction → ID token acr mfa, amr face + mfa', async () => {
    const config = await rpConfig();
    const { url, verifier, state } = await authorizationRequest(config, REDIRECT, { login_hint: 'ada@example.com', acr_values: 'urn:selfie-idp:acr:mfa', prompt: 'login' });
    await page.goto(url.href);
    const uid = /\/interaction\/([^/?]+)/.exec(page.url())![1];
    await page.getByRole('button', { name: 'Use passkey' }).click();
    const session = await approveSelfie(adaId);
    expect(session.metadata).toMatchObject({ purpose: 'login' });
    await page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 20_000 });
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(adaId);
    expect(claims.acr).toBe('urn:selfie-idp:acr:mfa');
    expect(claims.amr).toEqual(expect.arrayContaining(['face', 'mfa']));
    expect(claims.amr).toEqual(['face', 'hwk', 'user', 'mfa']);
    expect(uid).toBeTruthy();
  });

  it('acr mfa without login_hint: the discoverable passkey names the account, then its selfie', async () => {
    const config = await rpConfig();
    const { url, verifier, state } = await authorizationRequest(config, REDIRECT, { acr_values: 'urn:selfie-idp:acr:mfa', prompt: 'login' });
    await page.goto(url.href);
    expect(await page.getByLabel('Email (optional)').inputValue()).toBe('');
    await page.getByRole('button', { name: 'Use passkey' }).click();
    await approveSelfie(adaId);
    await page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 20_000 });
    const claims = (await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state })).claims()!;
    expect(claims).toMatchObject({ sub: adaId, acr: 'urn:selfie-idp:acr:mfa' });
  });

  it('acr passkey, for a client that allows it: the passkey alone, amr hwk + user, no selfie', async () => {
    const config = await rpConfig(PASSKEY_CLIENT());
    const { url, verifier, state } = await authorizationRequest(config, REDIRECT, { login_hint: 'ada@example.com', acr_values: 'urn:selfie-idp:acr:passkey', prompt: 'login' });
    const sessions = double.sessions.size;
    await page.goto(url.href);
    await page.getByRole('button', { name: 'Use passkey' }).click();
    await page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 20_000 });
    const claims = (await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state })).claims()!;
    expect(claims).toMatchObject({ sub: adaId, acr: 'urn:selfie-idp:acr:passkey', amr: ['hwk', 'user'] });
    expect(double.sessions.size).toBe(sessions);
    // That browser session is no sign-in for a client without allow_passkey_only, even one that
    // asks for nothing: it is asked to sign in again (probe: it got a code with no face before).
    const strict = await rpConfig();
    const plain = await authorizationRequest(strict, REDIRECT, {});
    await page.goto(plain.url.href);
    expect(page.url()).toContain('/interaction/');
    const silent = await authorizationRequest(strict, REDIRECT, { prompt: 'none' });
    await page.goto(silent.url.href);
    expect(page.url().startsWith(REDIRECT)).toBe(true);
    expect(new URL(page.url()).searchParams.get('error')).toBe('login_required');
  });

  it('without a held face sign-in or the page token, the passkey endpoints refuse', async () => {
    const config = await rpConfig();
    const { url } = await authorizationRequest(config, REDIRECT, { login_hint: 'ada@example.com', prompt: 'login' });
    await page.goto(url.href);
    const uid = /\/interaction\/([^/?]+)/.exec(page.url())![1]!;
    const results = await page.evaluate(async (uid) => {
      const csrf = (document.querySelector('input[name="csrf"]') as HTMLInputElement).value;
      const post = async (path: string, token: string) => {
        const res = await fetch(`/interaction/${uid}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': token }, body: '{}' });
        return [res.status, (await res.json()).error_description];
      };
      return { forged: await post('passkey/register/options', 'forged'), noLogin: await post('passkey/register/options', csrf), finish: (await fetch(`/interaction/${uid}/finish`, { headers: { accept: 'application/json' } })).status };
    }, uid);
    expect(results.forged).toEqual([403, 'This page has expired. Go back and try again.']);
    expect(results.noLogin).toEqual([400, 'Sign in with your selfie first.']);
    expect(results.finish).toBe(400);
  });

  it("a passkey of another account is refused, and no selfie starts for that account", async () => {
    await faceSigninThenRegister('bob@example.com', bobId);
    const adaCredential = (await passkeys().list(adaId))[0]!.id;
    const config = await rpConfig();
    const { url } = await authorizationRequest(config, REDIRECT, { login_hint: 'bob@example.com', acr_values: 'urn:selfie-idp:acr:mfa', prompt: 'login' });
    await page.goto(url.href);
    const sessions = double.sessions.size;
    // The page's own request for bob, then the authenticator made to answer with ada's credential.
    const outcome = await page.evaluate(async (credentialId) => {
      const button = document.querySelector('[data-passkey="authenticate"]')!;
      const csrf = button.getAttribute('data-csrf')!;
      const post = (u: string, body: unknown) => fetch(u, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body) });
      const asked = await post(button.getAttribute('data-options')!, { email: 'bob@example.com' });
      const options = await asked.json();
      if (!asked.ok) return { status: asked.status, body: options, stage: 'options' };
      const lib = (window as unknown as { SimpleWebAuthnBrowser: { startAuthentication: (o: unknown) => Promise<unknown> } }).SimpleWebAuthnBrowser;
      const response = await lib.startAuthentication({ optionsJSON: { ...options, allowCredentials: [{ id: credentialId, type: 'public-key' }] } });
      const res = await post(button.getAttribute('data-verify')!, response);
      return { status: res.status, body: await res.json(), stage: 'verify' };
    }, adaCredential);
    expect(outcome).toMatchObject({ stage: 'verify', status: 403 });
    expect(outcome.body.error_description).toBe('This passkey cannot be used for this account.');
    expect(double.sessions.size).toBe(sessions);
  });

  it('the account page lists the passkeys and removes one', async () => {
    // The browser's IdP session is bob's (the last sign-in).
    await page.goto(`${issuer}/account`);
    await expect.poll(() => page.getByText('bob@example.com').count()).toBe(1);
    await page.getByRole('button', { name: /Remove passkey/ }).click();
    await page.waitForURL(/removed=1/);
    expect(await passkeys().list(bobId)).toEqual([]);
    expect(await passkeys().list(adaId)).toHaveLength(1);
  });

  it('the operator lists and removes passkeys with the CLI (same embedded store)', async () => {
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(REPO_ROOT, 'src', 'cli.ts'), 'users', ...args], { env: { ...process.env, DATA_DIR: server.dataDir, ISSUER: issuer, LOG_LEVEL: 'silent' } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('exit', (code) => resolve({ code, stdout, stderr }));
      });
    const listed = await cli(['passkeys', '--email', 'ada@example.com']);
    expect(listed.code).toBe(0);
    const [only] = listed.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(only).toMatchObject({ account_id: adaId, kind: 'device-bound' });
    expect(listed.stdout).not.toContain('publicKey');
    const wrong = await cli(['passkey-remove', '--email', 'bob@example.com', '--id', only.id]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`bob@example.com has no passkey ${only.id}`);
    const removed = await cli(['passkey-remove', '--email', 'ada@example.com', '--id', only.id]);
    expect(JSON.parse(removed.stdout)).toMatchObject({ removed: true, passkey_id: only.id });
    expect(await passkeys().list(adaId)).toEqual([]);
    expect((await cli(['passkey-remove', '--email', 'ada@example.com'])).code).toBe(2);
  });
});
