// The operator console and the account page in Chromium, on the stack `selfie-idp serve` starts
// (embedded verifier, real Redis). The enrolment workflow sends every sign-up to review (liveness
// review threshold 100: no score is above it; decline threshold 0, no auto-decline), so a new
// user's sign-up waits In Review deterministically while operators sign in with the face-match
// workflow. Every console and account page is checked with axe (no serious or critical
// violation) and photographed at phone and desktop width into data/screenshots/ (git-ignored).
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import AxeBuilder from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startStack } from '../../src/run.ts';
import type { RunningStack } from '../../src/run.ts';
import { AuditLog, auditSubject } from '../../src/idp/audit.ts';
import { launchWithCamera } from '../helpers/chromium.ts';
import { SHARED_DIR, TEST_KEYS_ENCRYPTION_KEY, TEST_REDIS_URL, tempDir, uniquePrefix } from '../helpers/env.ts';
import { freePort, TEST_CLIENTS } from '../helpers/server.ts';
import { selfieRgb } from '../helpers/verifier.ts';
import { writeY4m } from '../helpers/y4m.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';
import { runCli } from '../helpers/cli.ts';

const SCREENSHOTS = path.join(REPO_ROOT, 'data', 'screenshots');
const WORKFLOWS = {
  workflows: [
    { workflow_id: 'admin-reauth', workflow_type: 'biometric_authentication', features: ['FACE_MATCH', 'IP_ANALYSIS'], face_match: { review_threshold: 72, decline_threshold: 60 } },
    {
      workflow_id: 'admin-enrol',
      workflow_type: 'kyc',
      features: ['LIVENESS', 'IP_ANALYSIS'],
      liveness: { method: 'PASSIVE', screen_light: false, review_threshold: 100, decline_threshold: 0, virtual_camera: 'ignore' },
      auto_decline: [],
    },
  ],
};

let REDIRECT = '';
let CLIENTS: typeof TEST_CLIENTS = [];
let rpServer: Server;
const tmp = tempDir('admin-e2e');
let env: Record<string, string>;
let stack: RunningStack;
let issuer: string;
let amyBrowser: Browser;
let howardBrowser: Browser;
let operator: BrowserContext;
let howard: BrowserContext;
const logs: string[] = [];
const checked: string[] = [];

const cli = (args: string[]) => runCli(args, env);

async function takeSelfie(page: Page) {
  await page.waitForURL((u) => u.href.startsWith(stack.verifierUrl!), { timeout: 15_000 });
  const take = page.getByRole('button', { name: 'Take selfie', exact: true });
  await expect.poll(() => take.isEnabled(), { timeout: 20_000 }).toBe(true);
  await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement | null)?.videoWidth ?? 0 > 0);
  await take.click();
}

/** axe on the page (no serious or critical violation), then a screenshot at phone and desktop width. */
async function inspect(page: Page, name: string) {
  await page.setViewportSize({ width: 1280, height: 800 });
  const axe = await new AxeBuilder({ page }).analyze();
  const bad = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad, `${name}: accessibility violations`).toEqual([]);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  checked.push(name);
}

/** /admin in the operator's browser: the console signs in through the IdP (a fresh selfie). */
async function signInToConsole(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${issuer}/admin`);
  await page.getByLabel('Email').fill('amy@example.com');
  await page.getByRole('button', { name: 'Continue with a selfie' }).click();
  await takeSelfie(page);
  await page.waitForURL((u) => u.pathname.startsWith('/admin/') && !u.pathname.startsWith('/admin/callback') || u.pathname === '/admin/callback', { timeout: 30_000 });
  await page.waitForLoadState('domcontentloaded');
  return page;
}

/** Every key under the test's prefix whose name or value names the account or its email. */
async function redisMentions(accountId: string, email: string): Promise<string[]> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const found: string[] = [];
    for (const key of await redis.keys(`${env.REDIS_KEY_PREFIX}*`)) {
      const type = await redis.type(key);
      const value =
        type === 'hash' ? JSON.stringify(await redis.hgetall(key)) : type === 'set' ? JSON.stringify(await redis.smembers(key)) : type === 'string' ? String(await redis.get(key)) : type === 'zset' ? JSON.stringify(await redis.zrange(key, '0', '-1')) : type === 'list' ? JSON.stringify(await redis.lrange(key, 0, -1)) : `(${type})`;
      const text = `${key} ${value}`.toLowerCase();
      if (text.includes(accountId) || text.includes(email)) found.push(key.slice(env.REDIS_KEY_PREFIX!.length));
    }
    return found;
  } finally {
    redis.disconnect();
  }
}

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const [port, verifierPort] = [await freePort(), await freePort()];
  rpServer = createServer((_req, res) => res.end('back at the app'));
  await new Promise<void>((r) => rpServer.listen(0, '127.0.0.1', () => r()));
  REDIRECT = `http://127.0.0.1:${(rpServer.address() as { port: number }).port}/cb`;
  CLIENTS = [{ ...TEST_CLIENTS[0]!, redirect_uris: [REDIRECT] }];
  writeFileSync(path.join(tmp.dir, 'clients.json'), JSON.stringify(CLIENTS));
  writeFileSync(path.join(tmp.dir, 'workflows.json'), JSON.stringify(WORKFLOWS));
  // The console at face acr (passkeys are not part of this test), and no passkey offer in between.
  const defaults = JSON.parse(readFileSync(path.join(REPO_ROOT, 'config', 'default.json'), 'utf8'));
  writeFileSync(
    path.join(tmp.dir, 'config.json'),
    JSON.stringify({ ...defaults, passkeys: { offerAfterFaceSignin: false }, admin: { ...defaults.admin, requiredAcr: 'urn:selfie-idp:acr:face' } }),
  );
  env = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    DATA_DIR: tmp.dir,
    CLIENTS_FILE: path.join(tmp.dir, 'clients.json'),
    CONFIG_FILE: path.join(tmp.dir, 'config.json'),
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: uniquePrefix('admin-e2e'),
    KEYS_ENCRYPTION_KEY: TEST_KEYS_ENCRYPTION_KEY,
    VERIFIER_PORT: String(verifierPort),
    VERIFIER_HOST: '127.0.0.1',
    VERIFIER_PUBLIC_URL: `http://127.0.0.1:${verifierPort}`,
    VERIFIER_WORKFLOWS_FILE: path.join(tmp.dir, 'workflows.json'),
    VERIFIER_FACE_POOL_SIZE: '2',
    DEMO_RP_PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
  };
  const config = loadConfig(env);
  issuer = config.issuer;
  const sink = new Writable({ write: (chunk, _e, cb) => (logs.push(String(chunk)), cb()) });
  const amyCam = path.join(tmp.dir, 'amy2.y4m');
  const howardCam = path.join(tmp.dir, 'howard1.y4m');
  writeY4m(amyCam, [await selfieRgb('amy', 2)], 640, 480);
  writeY4m(howardCam, [await selfieRgb('howard', 1)], 640, 480);
  [stack, amyBrowser, howardBrowser] = await Promise.all([startStack(config, env, createLogger('info', sink)), launchWithCamera(amyCam), launchWithCamera(howardCam)]);
  operator = await amyBrowser.newContext({ locale: 'en-GB', acceptDownloads: true });
  howard = await howardBrowser.newContext({ locale: 'en-GB', acceptDownloads: true });
}, 120_000);

afterAll(async () => {
  await amyBrowser?.close();
  await howardBrowser?.close();
  await stack?.close();
  await new Promise((r) => rpServer?.close(r));
  tmp.remove();
});

describe('operator console and account page in Chromium (embedded verifier, real Redis)', () => {
  let howardId = '';
  let waiting: { page: Page; config: oidc.Configuration; verifier: string; state: string };

  it('an account without the operator role signs in and gets the 403 page; the refusal is logged and audited', async () => {
    const enrol = await cli(['users', 'enrol', '--email', 'amy@example.com', '--name', 'Amy', '--image', path.join(SHARED_DIR, 'faces', 'amy', 'amy1.png')]);
    expect(enrol.code).toBe(0);
    const page = await signInToConsole(operator);
    await page.getByRole('heading', { name: 'No access' }).waitFor({ timeout: 15_000 });
    await inspect(page, 'admin-403');
    expect(logs.some((l) => l.includes('operator console: access refused'))).toBe(true);
    const denied = await new AuditLog(stack.idp.store).list({ action: 'operator.denied' });
    expect(denied.entries).toHaveLength(1);
    // Nor does a page of the console answer without a console session: to the sign-in, not the page.
    const direct = await operator.request.get(`${issuer}/admin/accounts`, { maxRedirects: 0 });
    expect(direct.status()).toBe(302);
    expect(direct.headers().location).toBe('/admin/login');
    await page.close();
  }, 90_000);

  it('a new user signs up; the sign-up waits In Review', async () => {
    const config = await discover(issuer, CLIENTS[0]!);
    const { url, verifier, state } = await authorizationRequest(config, REDIRECT);
    const page = await howard.newPage();
    await page.goto(url.href);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill('howard@example.com');
    await page.getByLabel('Display name').fill('Howard');
    await page.getByRole('button', { name: 'Continue to the selfie' }).click();
    await takeSelfie(page);
    await page.getByRole('heading', { name: 'Your selfie is being reviewed' }).waitFor({ timeout: 30_000 });
    waiting = { page, config, verifier, state };
  }, 90_000);

  it('granted the operator role, the operator approves it in the review queue and the waiting sign-up finishes by itself with tokens', async () => {
    const grant = await cli(['users', 'grant-operator', '--email', 'amy@example.com']);
    expect(grant.code).toBe(0);
    expect(JSON.parse(grant.stdout)).toMatchObject({ email: 'amy@example.com', operator: true });
    const page = await signInToConsole(operator);
    await page.getByRole('heading', { name: 'Review queue' }).waitFor({ timeout: 15_000 });
    const cookie = (await operator.cookies(`${issuer}/admin/review`)).find((c) => c.name === 'selfie_admin')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/admin' });
    const item = page.getByRole('article');
    await expect.poll(() => item.count()).toBe(1);
    expect(await item.getByText('Liveness (PASSIVE)').count()).toBe(1);
    expect(await item.getByText('IP analysis').count()).toBe(1);
    await inspect(page, 'admin-review');

    // A change without the form's CSRF token is refused.
    const sessionId = (await item.getByRole('link').first().getAttribute('href'))!.split('/').pop()!;
    const forged = await operator.request.post(`${issuer}/admin/review/${sessionId}`, { form: { decision: 'Approved', csrf: 'x' }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);

    await item.getByLabel(/Comment/).fill('Same person as the ID photo');
    await item.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('The session was approved.').waitFor({ timeout: 15_000 });
    expect(await page.getByRole('article').count()).toBe(0);

    // The user's page was left alone: the webhook finishes the sign-up, the page continues by itself.
    await waiting.page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 30_000 });
    const tokens = await oidc.authorizationCodeGrant(waiting.config, new URL(waiting.page.url()), { pkceCodeVerifier: waiting.verifier, expectedState: waiting.state });
    expect(tokens.claims()!.amr).toEqual(['face']);
    howardId = tokens.claims()!.sub;
    const approved = await new AuditLog(stack.idp.store).list({ action: 'review.approved' });
    expect(approved.entries[0]).toMatchObject({ subject: auditSubject(howardId), details: { session_id: sessionId, comment: 'Same person as the ID photo' } });
    await page.close();
  }, 120_000);

  it('sessions: filters, detail page, blocklist button, CSV export with formula cells neutralised', async () => {
    const page = await operator.newPage();
    await page.goto(`${issuer}/admin/sessions?status=Approved`);
    await inspect(page, 'admin-sessions');
    const rows = page.locator('tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(2); // amy's console sign-ins and howard's sign-up
    await page.goto(`${issuer}/admin/sessions?account=howard@example.com`);
    expect(await rows.count()).toBe(1);
    await rows.first().getByRole('link').click();
    await page.getByRole('heading', { name: 'Face blocklist' }).waitFor();
    await inspect(page, 'admin-session');
    // The face blocklist (the verifier's POST /v3/blocklist/add/): the operator puts this face on it.
    await page.getByRole('button', { name: 'Add this face to the blocklist' }).click();
    await page.getByText('The face of this session is on the blocklist.').waitFor({ timeout: 15_000 });
    expect((await new AuditLog(stack.idp.store).list({ action: 'session.blocklisted' })).entries[0]).toMatchObject({ subject: auditSubject(howardId) });
    const csv = await operator.request.get(`${issuer}/admin/sessions.csv?account=howard@example.com`);
    expect(csv.headers()['content-type']).toMatch(/^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('"session_id","status","workflow_id","account_id","email","created_at"');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('"howard@example.com"');
    expect((await operator.request.get(`${issuer}/admin/sessions?status=Nope`)).status()).toBe(400);
    await page.close();
  }, 60_000);

  it('the user\'s account page: email, devices, sign-ins, data download (no template contents), delete confirmation', async () => {
    const page = await howard.newPage();
    await page.goto(`${issuer}/account`);
    await page.getByText('howard@example.com').first().waitFor();
    expect(await page.getByRole('heading', { name: 'Recent sign-ins' }).count()).toBe(1);
    expect(await page.locator('ul.plain li').count()).toBeGreaterThanOrEqual(2); // a device and a sign-in
    await inspect(page, 'account');
    const data = await howard.request.get(`${issuer}/account/data`);
    const body = await data.json();
    expect(body.account).toMatchObject({ id: howardId, email: 'howard@example.com' });
    expect(body.face.enrolled).toBe(true);
    expect(body.face.template).toMatch(/not included/);
    expect(JSON.stringify(body)).not.toMatch(/embedding|ciphertext|"iv"/);
    expect(body.signins.length).toBeGreaterThanOrEqual(1);
    await page.getByRole('link', { name: 'Delete my account' }).click();
    await page.getByRole('heading', { name: 'Delete your account' }).waitFor();
    await inspect(page, 'account-delete');
    await page.close();
  }, 60_000);

  it('accounts and audit pages; the operator erases the account: no Redis key names it any more, the audit log keeps the action', async () => {
    const page = await operator.newPage();
    await page.goto(`${issuer}/admin/accounts`);
    await page.getByLabel('Email').fill('howard');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'howard@example.com' }).click();
    await page.getByRole('heading', { name: 'howard@example.com' }).waitFor();
    await inspect(page, 'admin-account');
    await page.getByRole('button', { name: 'Unlock face sign-in' }).click();
    await page.getByText('Face sign-in is unlocked').waitFor();

    const before = await redisMentions(howardId, 'howard@example.com');
    expect(before.length).toBeGreaterThan(5);
    await page.getByLabel(/Type the email/).fill('howard@example.com');
    await page.getByRole('button', { name: 'Delete account' }).click();
    await page.getByText('The account and everything about it were erased.').waitFor({ timeout: 15_000 });
    await inspect(page, 'admin-accounts');
    // Key by key, name and value: nothing names the account or its email any more.
    expect(await redisMentions(howardId, 'howard@example.com')).toEqual([]);
    // The user's browser is signed out: the account page says so.
    const mine = await howard.newPage();
    await mine.goto(`${issuer}/account`);
    await mine.getByText('You are not signed in here').waitFor();
    await inspect(mine, 'account-signed-out');

    await page.goto(`${issuer}/admin/audit?account=${auditSubject(howardId)}`);
    const actions = await page.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(actions).toEqual(expect.arrayContaining(['account.deleted', 'account.throttle_unlocked', 'review.approved', 'account.enrolled', 'account.signup']));
    await inspect(page, 'admin-audit');
    const exported = await cli(['audit', 'export', '--json']);
    expect(exported.code).toBe(0);
    const entries = exported.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(entries.find((e) => e.action === 'account.deleted')).toMatchObject({ subject: auditSubject(howardId) });
    expect(exported.stdout).not.toContain('howard@example.com');
    expect(exported.stdout).not.toContain(howardId);
    const csv = await cli(['audit', 'export', '--csv', '--since', '2000-01-01']);
    expect(csv.stdout.split('\r\n')[0]).toBe('"seq","at","action","actor","subject","details"');

    // Sign out of the console: its pages ask for a sign-in again.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Signed out of the console' }).waitFor();
    const after = await operator.request.get(`${issuer}/admin/review`, { maxRedirects: 0 });
    expect(after.status()).toBe(302);
    expect(checked).toEqual(expect.arrayContaining(['admin-403', 'admin-review', 'admin-sessions', 'admin-session', 'admin-account', 'admin-accounts', 'admin-audit', 'account', 'account-delete']));
    await page.close();
    await mine.close();
  }, 90_000);
});
