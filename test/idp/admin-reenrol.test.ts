// The console's "Reset enrolment" (probe finding, HIGH): "I have verified this person" used to let
// any sign-up of the email within 24 hours take the account. Now it shows the operator, once, a
// one-time link for the verified person; only a browser that opened it re-enrols the account.
// (The sign-up side of the grant, with Approved verdicts and the webhook: test/idp/signin-suite.ts.)
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts } from '../../src/idp/accounts.ts';
import { CONSOLE_COOKIE, ConsoleSessions } from '../../src/idp/admin/session.ts';
import { remoteModeEnv, startDiditDouble } from '../helpers/didit-double.ts';
import type { DiditDouble } from '../helpers/didit-double.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';
import { Browser, startTestServer, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const COOKIE_KEY = 'reenrol-test-cookie-key-0123456789abcdef';
const REDIRECT = 'http://127.0.0.1:1/cb';
let server: TestServer;
let double: DiditDouble;
let issuer: string;

/** The signed cookie Koa would set (keygrip: HMAC-SHA1 of name=value, base64url). */
function consoleCookie(sessionId: string): string {
  const sig = createHmac('sha1', COOKIE_KEY).update(`${CONSOLE_COOKIE}=${sessionId}`).digest('base64').replace(/\//g, '_').replace(/\+/g, '-').replace(/=+$/, '');
  return `${CONSOLE_COOKIE}=${sessionId}; ${CONSOLE_COOKIE}.sig=${sig}`;
}

async function operator() {
  const accounts = new Accounts(server.store);
  const { account } = await accounts.create({ email: 'op-reenrol@example.com', name: 'Op' });
  await accounts.setOperator(account.id, true, 'cli');
  const sessions = new ConsoleSessions(server.store, server.config.admin.idleMinutes, COOKIE_KEY);
  const session = await sessions.open({ cookies: { set() {} } } as never, account.id, 'urn:selfie-idp:acr:mfa');
  const cookie = consoleCookie(session.id);
  const csrf = sessions.csrf(session);
  const post = (p: string, form: Record<string, string>) =>
    fetch(`${issuer}${p}`, { method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, ...form }).toString(), redirect: 'manual' });
  const get = (p: string) => fetch(`${issuer}${p}`, { headers: { cookie }, redirect: 'manual' });
  return { post, get };
}

async function signUp(email: string, browser = new Browser()) {
  const config = await discover(issuer, TEST_CLIENTS[0]!);
  const { url } = await authorizationRequest(config, REDIRECT, {});
  const prompt = await browser.follow(url, issuer);
  const uid = /\/interaction\/([^/?]+)/.exec(prompt.url)![1]!;
  const html = await (await browser.fetch(`${issuer}/interaction/${uid}/signup`)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const res = await browser.fetch(`${issuer}/interaction/${uid}/signup`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, email, name: 'Someone' }).toString() });
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  // The reset makes the service forget the face: a Didit double of the contract answers.
  double = await startDiditDouble();
  server = await startTestServer({ ...remoteModeEnv(double), COOKIE_KEYS: COOKIE_KEY }, { signin: { lookupsPerIpPerHour: 1000 } });
  double.setWebhookUrl(`${server.config.issuer}/webhooks/didit`);
  issuer = server.config.issuer;
});
afterAll(async () => {
  await server?.stop();
  await double?.close();
});

describe("console: Reset enrolment with 'I have verified this person'", () => {
  it('shows a one-time link once; a stranger signing up the email is refused like any existing email; the link holder signs up, once', async () => {
    const { post, get } = await operator();
    const accounts = new Accounts(server.store);
    const { account } = await accounts.create({ email: 'tess@example.com', name: 'Tess' });
    await accounts.markEnrolled(account.id);

    const res = await post(`/admin/accounts/${account.id}/reset-enrolment`, { verified: 'yes' });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const link = /<code id="reenrol-link">([^<]+)<\/code>/.exec(await res.text())![1]!;
    expect(link.startsWith(`${issuer}/account/re-enrol/claim?grant=`)).toBe(true);
    const grant = new URL(link).searchParams.get('grant')!;
    expect(JSON.stringify(await accounts.findById(account.id))).not.toContain(grant); // only its hash is kept
    const detail = await get(`/admin/accounts/${account.id}`);
    expect(detail.status).toBe(200);
    const html = await detail.text();
    expect(html).toContain('reset, waiting for re-enrolment');
    expect(html).not.toContain(grant); // shown once, never again

    // The probe: the attacker, who knows the email, signs up within the 24 hours.
    const ordinary = await signUp('op-reenrol@example.com'); // never enrolled: sign-up opens the camera
    expect(ordinary.status).toBe(303);
    const enrolled = await accounts.create({ email: 'uma@example.com', name: 'Uma' });
    await accounts.markEnrolled(enrolled.account.id);
    const existing = await signUp('uma@example.com');
    const stranger = await signUp('tess@example.com');
    expect(stranger.status).toBe(existing.status);
    expect(stranger.status).toBe(409);
    expect(stranger.body).toContain('An account with this email already exists. Sign in instead.');

    // Opening the link shows a button; pressing it (a same-origin POST) puts the grant in the browser.
    const openLink = async (browser: Browser) => {
      expect((await browser.fetch(link)).status).toBe(200);
      return browser.fetch(`${issuer}/account/re-enrol/claim`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(issuer).origin },
        body: new URLSearchParams({ grant }),
      });
    };
    const person = new Browser();
    expect((await openLink(person)).status).toBe(303);
    expect((await signUp('tess@example.com', person)).status).toBe(303);
    // Used up: the same link opened again (or by someone it was forwarded to) starts nothing.
    const forwarded = new Browser();
    await openLink(forwarded);
    expect((await signUp('tess@example.com', forwarded)).status).toBe(409);
  });

  it('without the tick: no link, no grant; only the passkey path remains', async () => {
    const { post } = await operator();
    const accounts = new Accounts(server.store);
    const { account } = await accounts.create({ email: 'vera@example.com', name: 'Vera' });
    await accounts.markEnrolled(account.id);
    const res = await post(`/admin/accounts/${account.id}/reset-enrolment`, {});
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/admin/accounts/${encodeURIComponent(account.id)}?done=reset`);
    expect((await accounts.findById(account.id))!.enrolmentReset).toMatchObject({ grant: null });
    expect((await signUp('vera@example.com')).status).toBe(409);
  });
});
