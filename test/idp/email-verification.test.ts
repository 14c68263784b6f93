// Verified emails (issue 14): an approved sign-up sends a confirmation link over real SMTP
// (smtp-server on a loopback port); only its POST sets email_verified; used, replaced, expired
// and altered links are refused with a page that says so; mails per account are limited; without
// SMTP_URL the mail lands in DATA_DIR/outbox; accounts never confirmed are erased in time.
// Remote mode (the Didit double) on the real Redis: the double approves enrolments on demand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as oidc from 'openid-client';
import { Accounts } from '../../src/idp/accounts.ts';
import { EXPIRY_SWEEP_LOCK } from '../../src/idp/email/expiry.ts';
import { PortraitVault } from '../../src/idp/signin/portraits.ts';
import { loadConfig } from '../../src/config.ts';
import { remoteModeEnv, startDiditDouble } from '../helpers/didit-double.ts';
import type { DiditDouble } from '../helpers/didit-double.ts';
import { Browser, startTestServer, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';
import { confirmationLink, startSmtp } from '../helpers/smtp.ts';
import type { TestSmtp } from '../helpers/smtp.ts';
import { configError, TEST_REDIS_URL, uniquePrefix } from '../helpers/env.ts';
import { Redis } from 'ioredis';

const REDIRECT = 'http://127.0.0.1:1/cb';
const DAY = 24 * 3600 * 1000;

let double: DiditDouble;
let smtp: TestSmtp;
let server: TestServer;
let issuer: string;
/** The server's clock runs this far ahead of the real one (link and account expiry without sleeping). */
let clockAhead = 0;
const prefix = uniquePrefix('email');

/** Every Redis key of this server whose name or value names the account or its email. */
async function mentions(accountId: string, email: string): Promise<string[]> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    const found: string[] = [];
    for (const key of await redis.keys(`${prefix}*`)) {
      const type = await redis.type(key);
      const value = type === 'hash' ? JSON.stringify(await redis.hgetall(key)) : type === 'set' ? JSON.stringify(await redis.smembers(key)) : type === 'string' ? String(await redis.get(key)) : '';
      if (`${key} ${value}`.includes(accountId) || `${key} ${value}`.toLowerCase().includes(email)) found.push(key.slice(prefix.length));
    }
    return found;
  } finally {
    redis.disconnect();
  }
}

beforeAll(async () => {
  double = await startDiditDouble();
  smtp = await startSmtp();
  server = await startTestServer(
    { ...remoteModeEnv(double), REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, SMTP_URL: smtp.url, MAIL_FROM: 'Selfie IdP <no-reply@idp.test>' },
    { signin: { lookupsPerIpPerHour: 1000 }, now: () => Date.now() + clockAhead },
  );
  double.setWebhookUrl(`${server.config.issuer}/webhooks/didit`);
  issuer = server.config.issuer;
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await smtp?.close();
  await double?.close();
});

const sessionOf = (captureUrl: string) => {
  const token = new URL(captureUrl).pathname.split('/').pop();
  return [...double.sessions.values()].find((x) => x.session_token === token)!;
};

/** The whole sign-up as a browser does it, the double approving the selfie; returns the tokens. */
async function signUp(email: string, browser = new Browser()) {
  const config = await discover(issuer, TEST_CLIENTS[0]!);
  const { url, verifier, state } = await authorizationRequest(config, REDIRECT);
  const prompt = await browser.follow(url, issuer);
  const uid = /\/interaction\/([^/?]+)/.exec(prompt.url)![1]!;
  const form = await (await browser.fetch(`${issuer}/interaction/${uid}/signup`)).text();
  expect(form).toContain('email you a link');
  const csrf = /name="csrf" value="([^"]+)"/.exec(form)![1]!;
  const started = await browser.fetch(`${issuer}/interaction/${uid}/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, email, name: 'New Person' }).toString(),
  });
  expect(started.status).toBe(303);
  const capture = started.headers.get('location')!;
  const session = sessionOf(capture);
  session.capturedImage = Buffer.from(`portrait of ${email}`);
  await double.complete(session.session_id, 'Approved');
  const done = await browser.follow(capture, issuer);
  expect(done.url.startsWith(REDIRECT)).toBe(true);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state });
  return { config, tokens, browser, sub: tokens.claims()!.sub, sessionId: session.session_id };
}

/** Another authorization in the same browser (its IdP session signs it in), asking for email_verified in the ID token. */
async function signInAgain(flow: { config: oidc.Configuration; browser: Browser }) {
  const { url, verifier, state } = await authorizationRequest(flow.config, REDIRECT, { claims: JSON.stringify({ id_token: { email_verified: null, email: null } }) });
  const done = await flow.browser.follow(url, issuer);
  expect(done.url.startsWith(REDIRECT)).toBe(true);
  return oidc.authorizationCodeGrant(flow.config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: state });
}

const post = (url: string, body: Record<string, string>) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString(), redirect: 'manual' });

/** The account page's "Send the confirmation link again" button, pressed in this (signed-in) browser. */
async function accountResend(browser: Browser) {
  const page = await (await browser.fetch(`${issuer}/account`)).text();
  expect(page).toContain('Send the confirmation link again');
  const csrf = /action="\/account\/email\/resend">\s*<input type="hidden" name="csrf" value="([^"]+)"/.exec(page)![1]!;
  return browser.fetch(`${issuer}/account/email/resend`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf }).toString() });
}

/** The confirm page's form fields (what its button posts). */
async function confirmForm(link: string): Promise<{ status: number; html: string; fields: Record<string, string> }> {
  const res = await fetch(link);
  const html = await res.text();
  const fields = Object.fromEntries([...html.matchAll(/type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  return { status: res.status, html, fields };
}

describe('verified emails', () => {
  it('sign-up mails a link over SMTP; GET only shows a page; the POST makes email_verified true (userinfo and a new ID token)', async () => {
    const flow = await signUp('vera@example.com');
    const mail = await smtp.waitForMail('vera@example.com');
    expect(mail.from).toBe('no-reply@idp.test');
    expect(mail.raw).toMatch(/^Subject: Confirm your email address/m);
    const link = confirmationLink(mail);
    expect(link.startsWith(`${issuer}/email/verify?`)).toBe(true);
    expect((await oidc.fetchUserInfo(flow.config, flow.tokens.access_token, flow.sub)).email_verified).toBe(false);

    // Opening the link (as a mail scanner would) confirms nothing.
    const page = await confirmForm(link);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Confirm vera@example.com');
    expect(page.html).toContain('action="/email/verify"');
    expect((await new Accounts(server.store).findById(flow.sub))?.emailVerified).toBe(false);

    const confirmed = await post(`${issuer}/email/verify`, page.fields);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('is confirmed');
    const account = await new Accounts(server.store).findById(flow.sub);
    expect(account).toMatchObject({ emailVerified: true, unverifiedUntil: null });
    expect((await oidc.fetchUserInfo(flow.config, flow.tokens.access_token, flow.sub)).email_verified).toBe(true);
    const again = await signInAgain(flow);
    expect(again.claims()).toMatchObject({ sub: flow.sub, email: 'vera@example.com', email_verified: true });

    // The link was single-use: posting it again changes nothing and gets the page of any unusable
    // link (it names no address: probe, the id alone told a stranger the email).
    const reuse = await post(`${issuer}/email/verify`, page.fields);
    expect(reuse.status).toBe(400);
    const reused = await reuse.text();
    expect(reused).toContain('This link does not work');
    expect(reused).not.toContain('vera@example.com');
    // And the secret is kept only as a hash: the stored record is gone, nothing holds the token.
    expect(await server.store.get(`email-verification:${flow.sub}`)).toBeUndefined();
  });

  it('a used, replaced, expired or altered link is refused with a page that says so', async () => {
    const flow = await signUp('rhea@example.com');
    const first = confirmationLink(await smtp.waitForMail('rhea@example.com'));
    const { fields } = await confirmForm(first);
    const token = new URL(first).searchParams.get('token')!;
    // Altered: one character changed (same length, so the hash compare itself decides).
    const altered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    for (const answer of [await fetch(`${issuer}/email/verify?account=${flow.sub}&token=${altered}`), await post(`${issuer}/email/verify`, { account: flow.sub, token: altered })]) {
      expect(answer.status).toBe(400);
      expect(await answer.text()).toContain('This link does not work');
    }
    // Made up or truncated parameters: the same page, never a 5xx.
    for (const q of ['', '?account=x&token=y', `?account=${flow.sub}`, `?account=${flow.sub}&token=${token}x`]) {
      const res = await fetch(`${issuer}/email/verify${q}`);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('This link does not work');
    }

    // Replaced: a resend from the signed-in account page makes the first link dead.
    const resent = await accountResend(flow.browser);
    expect(resent.status).toBe(200);
    expect(await resent.text()).toContain('A new link is on its way');
    const second = confirmationLink(await smtp.waitForMail('rhea@example.com', 2));
    expect(second).not.toBe(first);
    const replaced = await post(`${issuer}/email/verify`, fields);
    expect(replaced.status).toBe(410);
    const replacedHtml = await replaced.text();
    expect(replacedHtml).toContain('This link no longer works');
    expect(replacedHtml).toContain('Send a new link');

    // Expired: past signup.verificationLinkHours on the server's clock.
    clockAhead = (server.config.signup.verificationLinkHours + 1) * 3600 * 1000;
    try {
      const expired = await fetch(second);
      expect(expired.status).toBe(410);
      const html = await expired.text();
      expect(html).toContain('This link no longer works');
      expect(html).toContain('Send a new link');
      expect((await post(`${issuer}/email/verify`, { account: flow.sub, token: new URL(second).searchParams.get('token')! })).status).toBe(410);
      // Its holder may ask for a new one from that page (the form carries the dead token).
      const fromExpired = Object.fromEntries([...html.matchAll(/type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      expect(fromExpired.token).toBe(new URL(second).searchParams.get('token'));
      // A forged form (no or another link's CSRF token) sends nothing.
      expect((await post(`${issuer}/email/resend`, { ...fromExpired, csrf: 'forged' })).status).toBe(400);
      expect((await post(`${issuer}/email/resend`, { ...fromExpired, token: altered })).status).toBe(400);
      const again = await post(`${issuer}/email/resend`, fromExpired);
      expect(again.status).toBe(200);
      expect(await again.text()).toContain('We sent a new link to rhea@example.com');
    } finally {
      clockAhead = 0;
    }
    await smtp.waitForMail('rhea@example.com', 3);
    expect((await new Accounts(server.store).findById(flow.sub))?.emailVerified).toBe(false);
    expect(smtp.mails.filter((m) => m.to.includes('rhea@example.com'))).toHaveLength(3);
  });

  it('resends are limited per account (signup.verificationMailsPerHour, the first mail included)', async () => {
    const flow = await signUp('rory@example.com');
    await smtp.waitForMail('rory@example.com');
    const limit = server.config.signup.verificationMailsPerHour;
    for (let i = 1; i < limit; i++) expect((await accountResend(flow.browser)).status).toBe(200);
    const over = await accountResend(flow.browser);
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await over.text()).toContain('Too many mails');
    await smtp.waitForMail('rory@example.com', limit);
    expect(smtp.mails.filter((m) => m.to.includes('rory@example.com'))).toHaveLength(limit);
  });

  it('an account id alone (every application\'s sub) reads no email, learns nothing of the account, and sends no mail (probe)', async () => {
    const accounts = new Accounts(server.store);
    const unverified = await signUp('una@example.com');
    const link = confirmationLink(await smtp.waitForMail('una@example.com'));
    const verified = await signUp('vic@example.com');
    const { fields } = await confirmForm(confirmationLink(await smtp.waitForMail('vic@example.com')));
    expect((await post(`${issuer}/email/verify`, fields)).status).toBe(200);
    // Made by `users enrol`: no unverified deadline, never asked to confirm.
    const enrolled = (await accounts.create({ email: 'cli-made@example.com', name: 'Cli' })).account;
    await accounts.markEnrolled(enrolled.id);
    const ids = [unverified.sub, verified.sub, enrolled.id, '00000000-0000-4000-8000-000000000000'];
    const mailsBefore = smtp.mails.length;
    const fake = 'A'.repeat(43);
    const answers = [];
    for (const id of ids) {
      const get = await fetch(`${issuer}/email/verify?account=${id}&token=${fake}`);
      const confirm = await post(`${issuer}/email/verify`, { account: id, token: fake });
      // No form is handed out, and a resend made up from the id (any csrf) is refused the same way.
      const resend = await post(`${issuer}/email/resend`, { account: id, token: fake, csrf: 'x' });
      const resendNoToken = await post(`${issuer}/email/resend`, { account: id, csrf: 'x' });
      answers.push(JSON.stringify(await Promise.all([get, confirm, resend, resendNoToken].map(async (r) => [r.status, await r.text()]))));
    }
    // Identical for an unverified, a verified, a CLI-made and an unknown account: no existence oracle.
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).toContain('This link does not work');
    expect(answers[0]).not.toContain('name="csrf"');
    for (const email of ['una@', 'vic@', 'cli-made@']) expect(answers.join('')).not.toContain(email);
    await new Promise((r) => setTimeout(r, 200));
    expect(smtp.mails.length).toBe(mailsBefore);
    // The owner's link still works.
    const page = await confirmForm(link);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Confirm una@example.com');
    // The account page offers the resend only to an unconfirmed sign-up account.
    expect(await (await verified.browser.fetch(`${issuer}/account`)).text()).not.toContain('Send the confirmation link again');
  });

  it('deleting the account and removing a passkey need a sign-in at most five minutes old, like re-enrolment (probe)', async () => {
    const flow = await signUp('stale@example.com');
    await smtp.waitForMail('stale@example.com');
    const csrf = /name="csrf" value="([^"]+)"/.exec(await (await flow.browser.fetch(`${issuer}/account`)).text())![1]!;
    // Age the browser's IdP session: its sign-in was ten minutes ago.
    const keys = await server.store.indexMembers(`oidc:by-account:${flow.sub}`);
    const sessionKey = keys.find((k) => k.startsWith('oidc:Session:'))!;
    const session = (await server.store.get<Record<string, unknown>>(sessionKey))!;
    await server.store.set(sessionKey, { ...session, loginTs: Math.floor(Date.now() / 1000) - 600 } as never, { ttl: 3600 });
    const postAs = (p: string, body: Record<string, string>) =>
      flow.browser.fetch(`${issuer}${p}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
    for (const [p, body] of [['/account/delete', { csrf, confirm: 'yes' }], ['/account/passkeys/delete', { csrf, id: 'any' }], ['/account/re-enrol', { csrf }]] as const) {
      const res = await postAs(p, body);
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('sign in again');
    }
    expect(await new Accounts(server.store).findById(flow.sub)).toMatchObject({ email: 'stale@example.com' });
    // A fresh sign-in (the same session, its sign-in now) may delete.
    await server.store.set(sessionKey, { ...session, loginTs: Math.floor(Date.now() / 1000) } as never, { ttl: 3600 });
    const done = await postAs('/account/delete', { csrf, confirm: 'yes' });
    expect(done.status).toBe(200);
    expect(await new Accounts(server.store).findById(flow.sub, { includeErasing: true })).toBeUndefined();
  });

  it('an account never confirmed is erased after signup.unverifiedAccountDays with everything about it; confirmed and operator accounts stay', async () => {
    const accounts = new Accounts(server.store);
    const gone = await signUp('gus-unconfirmed@example.com');
    await smtp.waitForMail('gus-unconfirmed@example.com');
    const kept = await signUp('kim-confirmed@example.com');
    const { fields } = await confirmForm(confirmationLink(await smtp.waitForMail('kim-confirmed@example.com')));
    expect((await post(`${issuer}/email/verify`, fields)).status).toBe(200);
    const operator = (await accounts.create({ email: 'olga-operator@example.com', name: 'Olga' })).account;
    await accounts.markEnrolled(operator.id);
    if (server.config.verification.mode !== 'remote') throw new Error('expected remote mode');
    const vault = new PortraitVault(server.store, server.config.verification.portraitKey!);
    expect(await vault.load(gone.sub)).toBeDefined();
    expect((await mentions(gone.sub, 'gus-unconfirmed@example.com')).length).toBeGreaterThan(5);

    // Not yet: one day before the deadline nothing goes.
    await server.store.delete(EXPIRY_SWEEP_LOCK);
    clockAhead = (server.config.signup.unverifiedAccountDays - 1) * DAY;
    expect(await server.expiry!.runOnce()).toBe(0);
    // Past it: the sweep erases it (and, in the same period, another sweep does nothing: one instance at a time).
    await server.store.delete(EXPIRY_SWEEP_LOCK);
    clockAhead = (server.config.signup.unverifiedAccountDays + 1) * DAY;
    try {
      expect(await server.expiry!.runOnce()).toBeGreaterThanOrEqual(1);
      expect(await server.expiry!.runOnce()).toBe(0);
    } finally {
      clockAhead = 0;
    }
    // Key by key, name and value: nothing in Redis names the account or its email any more.
    expect(await mentions(gone.sub, 'gus-unconfirmed@example.com')).toEqual([]);
    expect(await accounts.findById(gone.sub, { includeErasing: true })).toBeUndefined();
    expect(await accounts.findByEmail('gus-unconfirmed@example.com', { includeErasing: true })).toBeUndefined();
    expect(await accounts.unverifiedIds()).not.toContain(gone.sub);
    // At the verification service (over the v3 API) and the portrait the IdP kept for it.
    expect(double.deletedSessions).toContain(gone.sessionId);
    expect([...double.sessions.values()].some((s) => s.vendor_data === gone.sub)).toBe(false);
    expect(await vault.load(gone.sub)).toBeUndefined();
    // oidc-provider's records: its access token is dead.
    await expect(oidc.fetchUserInfo(gone.config, gone.tokens.access_token, gone.sub)).rejects.toThrow();
    expect(server.logs.join('')).toContain('address never confirmed: account erased');

    expect(await accounts.findById(kept.sub)).toMatchObject({ emailVerified: true });
    expect(await accounts.findById(operator.id)).toMatchObject({ email: 'olga-operator@example.com' });
    expect((await oidc.fetchUserInfo(kept.config, kept.tokens.access_token, kept.sub)).email_verified).toBe(true);
  });
});

describe('without SMTP_URL (the development default)', () => {
  it('writes the mail to DATA_DIR/outbox (0600) and to the log, link included, and says so at start', async () => {
    const dev = await startTestServer({ ...remoteModeEnv(double) }, { signin: { lookupsPerIpPerHour: 1000 } });
    double.setWebhookUrl(`${dev.config.issuer}/webhooks/didit`);
    const saved = { server, issuer };
    server = dev;
    issuer = dev.config.issuer;
    try {
      expect(dev.logs.join('')).toContain('SMTP_URL unset, mails are NOT sent');
      const flow = await signUp('otto@example.com');
      const outbox = path.join(dev.dataDir, 'outbox');
      for (let i = 0; i < 100 && !dev.logs.join('').includes('written to the development outbox'); i++) await new Promise((r) => setTimeout(r, 50));
      const [file] = readdirSync(outbox);
      expect(file).toMatch(/\.eml$/);
      expect(statSync(path.join(outbox, file!)).mode & 0o777).toBe(0o600);
      const eml = readFileSync(path.join(outbox, file!), 'utf8');
      expect(eml).toMatch(/^To: otto@example\.com/m);
      const link = confirmationLink({ text: eml.replace(/=\r?\n/g, '').replace(/=3D/g, '=') });
      expect(dev.logs.join('')).toContain(link.split('token=')[1]!);
      const { fields } = await confirmForm(link);
      expect((await post(`${issuer}/email/verify`, fields)).status).toBe(200);
      expect((await new Accounts(dev.store).findById(flow.sub))?.emailVerified).toBe(true);
    } finally {
      server = saved.server;
      issuer = saved.issuer;
      double.setWebhookUrl(`${issuer}/webhooks/didit`);
      await dev.stop();
    }
  });
});

describe('mail configuration', () => {
  const base = { DATA_DIR: '/tmp/unused' };
  it('SMTP_URL and MAIL_FROM are checked at start', () => {
    expect(configError(() => loadConfig({ ...base, SMTP_URL: 'http://mail.example.com' }))).toContain('SMTP_URL');
    expect(configError(() => loadConfig({ ...base, SMTP_URL: 'not a url' }))).toContain('SMTP_URL');
    expect(configError(() => loadConfig({ ...base, MAIL_FROM: 'nobody' }))).toContain('MAIL_FROM');
    expect(configError(() => loadConfig({ ...base, MAIL_FROM: 'A <a@b.c>\r\nBcc: x@y.z' }))).toContain('MAIL_FROM');
    const ok = loadConfig({ ...base, SMTP_URL: 'smtps://user:pass@mail.example.com:465', MAIL_FROM: 'IdP <idp@example.com>', ISSUER: 'https://id.example.com' });
    expect(ok.mail).toEqual({ smtpUrl: 'smtps://user:pass@mail.example.com:465', from: 'IdP <idp@example.com>' });
    expect(loadConfig({ ...base, ISSUER: 'https://id.example.com' }).mail).toEqual({ smtpUrl: undefined, from: 'selfie-idp <no-reply@id.example.com>' });
  });
});
