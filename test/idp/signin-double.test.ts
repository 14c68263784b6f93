// The IdP's sign-in flow in "real Didit" mode: DIDIT_* configuration pointing at a local double
// of the documented contract. The outcome of each capture is chosen by the test; everything the
// IdP does with it (webhook checks, callback, tokens) is real.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { randomBytes, randomUUID, createHmac } from 'node:crypto';
import { signWebhook } from '../../src/didit/index.ts';
import { Accounts } from '../../src/idp/accounts.ts';
import { PortraitVault } from '../../src/idp/signin/portraits.ts';
import { startDiditDouble } from '../helpers/didit-double.ts';
import type { DiditDouble } from '../helpers/didit-double.ts';
import { Browser, startTestServer, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const REDIRECT = 'http://127.0.0.1:1/cb';
let double: DiditDouble;
let server: TestServer;
let issuer: string;
let accountId: string;
let otherAccountId: string;

async function rp() {
  const meta = TEST_CLIENTS[0]!;
  return oidc.discovery(new URL(issuer), meta.client_id, meta.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
}

/** Authorization request with login_hint; returns where the browser was sent (the capture page). */
async function begin(extra: Record<string, string> = {}, browser = new Browser()) {
  const config = await rp();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    login_hint: 'ada@example.com',
    ...extra,
  });
  const { res, url: landed } = await browser.follow(url, issuer);
  return { config, verifier, state, browser, res, captureUrl: landed };
}

function sessionOf(captureUrl: string) {
  const token = captureUrl.split('/').pop();
  return [...double.sessions.values()].find((s) => s.session_token === token)!;
}

/** The browser comes back from the capture page; waits through "checking" refreshes. */
async function returnFromCapture(browser: Browser, captureUrl: string, maxRefreshes = 10) {
  let hop = await browser.follow(captureUrl, issuer);
  for (let i = 0; i < maxRefreshes && hop.res.status === 200; i++) {
    const html = await hop.res.clone().text();
    if (!html.includes('http-equiv="refresh"')) break;
    await new Promise((r) => setTimeout(r, 300));
    hop = await browser.follow(hop.url, issuer);
  }
  return hop;
}

beforeAll(async () => {
  double = await startDiditDouble();
  server = await startTestServer({
    DIDIT_API_KEY: double.apiKey,
    DIDIT_BASE_URL: double.url,
    DIDIT_WEBHOOK_SECRET: double.webhookSecret,
    DIDIT_REAUTH_WORKFLOW_ID: 'wf-reauth',
    DIDIT_ENROL_WORKFLOW_ID: 'wf-enrol',
    PORTRAIT_KEY: randomBytes(32).toString('base64'),
  });
  issuer = server.config.issuer;
  double.setWebhookUrl(`${issuer}/webhooks/didit`);
  const accounts = new Accounts(server.store);
  accountId = (await accounts.create({ email: 'ada@example.com', name: 'Ada' })).account.id;
  await accounts.markEnrolled(accountId);
  otherAccountId = (await accounts.create({ email: 'bob@example.com', name: 'Bob' })).account.id;
  await accounts.markEnrolled(otherAccountId);
  // The IdP keeps the portrait for a service without templates, and sends it with each login.
  if (server.config.verification.mode !== 'remote') throw new Error('expected remote mode');
  await new PortraitVault(server.store, server.config.verification.portraitKey!).save(accountId, Buffer.from('fake-jpeg-bytes'));
});
afterAll(async () => {
  await server.stop();
  await double.close();
});

describe('sign-in against a Didit double (remote mode)', () => {
  it('login_hint → capture page → Approved webhook → code → ID token with amr face', async () => {
    const flow = await begin({ nonce: 'n1', ui_locales: 'id-ID en' });
    expect(flow.captureUrl.startsWith(double.url)).toBe(true);
    const session = sessionOf(flow.captureUrl);
    expect(session.vendor_data).toBe(accountId);
    expect(session.workflow_id).toBe('wf-reauth');
    expect(session.callback).toBe(`${issuer}/reauth/callback`);
    expect(session.metadata).toMatchObject({ purpose: 'login', from_ip: expect.any(String), device_id: expect.any(String) });
    expect(session.language).toBe('id');
    expect(Buffer.from(session.portrait_image!, 'base64').toString()).toBe('fake-jpeg-bytes');

    expect(await double.complete(session.session_id, 'Approved')).toBe(200);
    const back = await returnFromCapture(flow.browser, flow.captureUrl);
    expect(back.url.startsWith(REDIRECT)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(flow.config, new URL(back.url), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: 'n1' });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ sub: accountId, amr: ['face'], acr: server.config.acr.face });
    expect(typeof claims.auth_time).toBe('number');
    expect(typeof claims.sid).toBe('string');
  });

  it('Declined → no code, the declined page with retries, then recovery when they run out', async () => {
    const flow = await begin();
    let session = sessionOf(flow.captureUrl);
    await double.complete(session.session_id, 'Declined');
    let back = await returnFromCapture(flow.browser, flow.captureUrl);
    expect(back.url).toMatch(/\/interaction\/[^/]+\/verified\?/);
    let html = await back.res.text();
    expect(html).toContain('We could not verify it is you');
    expect(html).toContain('2 tries left');
    for (let i = 0; i < 2; i++) {
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
      const uid = /\/interaction\/([^/]+)\/retry/.exec(html)![1]!;
      const retry = await flow.browser.fetch(`${issuer}/interaction/${uid}/retry`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${encodeURIComponent(csrf)}` });
      expect(retry.status).toBe(303);
      const capture = retry.headers.get('location')!;
      session = sessionOf(capture);
      await double.complete(session.session_id, 'Declined');
      back = await returnFromCapture(flow.browser, capture);
      html = await back.res.text();
    }
    expect(html).toContain('used all your tries');
    expect(html).not.toContain('/retry');
    expect(html).toContain('reset your enrolment');
  });

  it('In Review → hold page → operator approval (webhook) → tokens', async () => {
    const flow = await begin();
    const session = sessionOf(flow.captureUrl);
    await double.complete(session.session_id, 'In Review');
    const hold = await returnFromCapture(flow.browser, flow.captureUrl, 0);
    const html = await hold.res.text();
    expect(html).toContain('being reviewed');
    expect(html).toContain('http-equiv="refresh"');
    await double.complete(session.session_id, 'Approved');
    const done = await flow.browser.follow(hold.url, issuer);
    expect(done.url.startsWith(REDIRECT)).toBe(true);
  });

  it('with no webhook at all, the callback asks the decision endpoint', async () => {
    const flow = await begin();
    const session = sessionOf(flow.captureUrl);
    session.status = 'Approved'; // decided at the service, webhook lost
    const started = Date.now();
    const back = await returnFromCapture(flow.browser, flow.captureUrl, 30);
    expect(back.url.startsWith(REDIRECT)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(server.config.signin.webhookWaitSeconds * 1000 - 500);
  });

  it('the status in the callback query is only a hint', async () => {
    const flow = await begin();
    const session = sessionOf(flow.captureUrl);
    const forged = `${issuer}/reauth/callback?verificationSessionId=${session.session_id}&status=Approved`;
    const { res } = await flow.browser.follow(forged, issuer);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Checking your selfie');
  });

  it('forged, unsigned, replayed and stale webhooks get 401 and complete nothing', async () => {
    const flow = await begin();
    const session = sessionOf(flow.captureUrl);
    const now = Math.floor(Date.now() / 1000);
    const envelope = (extra: Record<string, unknown> = {}) => ({
      event_id: randomUUID(), webhook_type: 'status.updated', timestamp: now, created_at: now,
      session_id: session.session_id, status: 'Approved', workflow_id: 'wf-reauth', vendor_data: accountId, metadata: {}, ...extra,
    });
    const post = (body: string, headers: Record<string, string>) =>
      fetch(`${issuer}/webhooks/didit`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

    const forged = signWebhook(envelope(), 'not-the-secret-0123456789');
    expect((await post(forged.body, forged.headers)).status).toBe(401);
    expect((await post(JSON.stringify(envelope()), {})).status).toBe(401);
    const stale = signWebhook(envelope({ timestamp: now - 301 }), double.webhookSecret);
    expect((await post(stale.body, stale.headers)).status).toBe(401);
    const tampered = signWebhook(envelope({ status: 'Declined' }), double.webhookSecret);
    expect((await post(tampered.body.replace('Declined', 'Approved'), tampered.headers)).status).toBe(401);
    const garbage = 'not json at all';
    expect((await post(garbage, { 'X-Signature-V2': createHmac('sha256', double.webhookSecret).update(garbage).digest('hex') })).status).toBe(401);
    expect((await server.verificationAttempt(session.session_id))?.status).toBeNull();

    const real = signWebhook(envelope({ status: 'Declined' }), double.webhookSecret);
    expect((await post(real.body, real.headers)).status).toBe(200);
    expect((await post(real.body, real.headers)).status).toBe(401); // replayed event_id
    expect((await server.verificationAttempt(session.session_id))?.status).toBe('Declined');
    // An authentic Approved for the same session with a replayed event id changes nothing.
    const replayApproved = signWebhook({ ...JSON.parse(real.body), status: 'Approved' }, double.webhookSecret);
    expect((await post(replayApproved.body, replayApproved.headers)).status).toBe(401);
    expect((await server.verificationAttempt(session.session_id))?.status).toBe('Declined');
  });

  it('a webhook for an unknown session gets 200 and a log line; bad input never a 5xx', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unknown = signWebhook({ event_id: randomUUID(), webhook_type: 'status.updated', timestamp: now, created_at: now, session_id: randomUUID(), status: 'Approved', workflow_id: 'x', vendor_data: 'x', metadata: {} }, double.webhookSecret);
    const res = await fetch(`${issuer}/webhooks/didit`, { method: 'POST', headers: unknown.headers, body: unknown.body });
    expect(res.status).toBe(200);
    expect(server.logs.join('')).toContain('webhook for an unknown or finished verification session');
    const huge = await fetch(`${issuer}/webhooks/didit`, { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) }).catch(() => undefined);
    if (huge) expect(huge.status).toBeLessThan(500);
    const empty = await fetch(`${issuer}/webhooks/didit`, { method: 'POST' });
    expect(empty.status).toBe(401);
  });

  it('a verdict for another account or another sign-in is refused', async () => {
    // Another account: an authentic webhook whose vendor_data is not the attempt's account.
    const flow = await begin();
    const session = sessionOf(flow.captureUrl);
    const now = Math.floor(Date.now() / 1000);
    const wrongAccount = signWebhook({ event_id: randomUUID(), webhook_type: 'status.updated', timestamp: now, created_at: now, session_id: session.session_id, status: 'Approved', workflow_id: 'wf-reauth', vendor_data: otherAccountId, metadata: {} }, double.webhookSecret);
    expect((await fetch(`${issuer}/webhooks/didit`, { method: 'POST', headers: wrongAccount.headers, body: wrongAccount.body })).status).toBe(200);
    expect((await server.verificationAttempt(session.session_id))?.status).toBeNull();

    // Another sign-in: a second browser's approved session presented in the first browser.
    const second = await begin({}, new Browser());
    const secondSession = sessionOf(second.captureUrl);
    await double.complete(secondSession.session_id, 'Approved');
    const crossed = await flow.browser.follow(`${issuer}/reauth/callback?verificationSessionId=${secondSession.session_id}&status=Approved`, issuer);
    expect(crossed.res.status).toBe(400);
    expect(await crossed.res.text()).toMatch(/another sign-in|another browser/);
    // Nor can the first browser claim it under its own interaction's path.
    const ownUid = /\/interaction\/([^/]+)\/verified/.exec((await flow.browser.follow(`${issuer}/reauth/callback?verificationSessionId=${session.session_id}`, issuer)).url)![1]!;
    const claimed = await flow.browser.fetch(`${issuer}/interaction/${ownUid}/verified?verificationSessionId=${secondSession.session_id}`);
    expect(claimed.status).toBe(400);
    expect(await claimed.text()).toContain('belongs to another sign-in');
  });

  it('an abandoned capture prompts again, without looping back to the camera', async () => {
    const flow = await begin();
    const session = sessionOf(flow.captureUrl);
    await double.complete(session.session_id, 'Abandoned');
    const back = await returnFromCapture(flow.browser, flow.captureUrl);
    expect(back.url).toMatch(/\/interaction\/[^/?]+\?notice=unfinished$/);
    expect(await back.res.text()).toContain('Your selfie was not finished');
  });

  it('sign-up: enrolment session → Approved → account enrolled, portrait kept, signed in', async () => {
    const config = await rp();
    const verifier = oidc.randomPKCECodeVerifier();
    const browser = new Browser();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
    const login = await browser.follow(url, issuer);
    const uid = /\/interaction\/([^/?]+)/.exec(login.url)![1]!;
    const signupPage = await browser.fetch(`${issuer}/interaction/${uid}/signup?email=carol%40example.com`);
    const html = await signupPage.text();
    expect(html).toContain('value="carol@example.com"');
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const post = (body: Record<string, string>) =>
      browser.fetch(`${issuer}/interaction/${uid}/signup`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body).toString() });
    expect((await post({ csrf, email: 'not-an-email', name: 'Carol' })).status).toBe(400);
    expect((await post({ csrf: 'forged', email: 'carol@example.com', name: 'Carol' })).status).toBe(403);
    expect((await post({ csrf, email: 'ada@example.com', name: 'Not Ada' })).status).toBe(409);
    const started = await post({ csrf, email: 'carol@example.com', name: 'Carol' });
    expect(started.status).toBe(303);
    const capture = started.headers.get('location')!;
    const session = sessionOf(capture);
    expect(session.workflow_id).toBe('wf-enrol');
    expect(session.metadata).toMatchObject({ purpose: 'enrol' });
    session.capturedImage = Buffer.from('carol-portrait-jpeg');
    await double.complete(session.session_id, 'Approved');
    const done = await returnFromCapture(browser, capture);
    expect(done.url.startsWith(REDIRECT)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: 's' });
    expect(tokens.claims()).toMatchObject({ amr: ['face'], acr: server.config.acr.face });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(info).toMatchObject({ email: 'carol@example.com', email_verified: false });
    const carol = await new Accounts(server.store).findByEmail('carol@example.com');
    expect(carol?.enrolledAt).toBeGreaterThan(0);
    const mode = server.config.verification;
    if (mode.mode !== 'remote') throw new Error('remote mode expected');
    const kept = await new PortraitVault(server.store, mode.portraitKey!).load(carol!.id);
    expect(kept?.toString()).toBe('carol-portrait-jpeg');
  });

  it('prompt=login forces a new capture even with a live session', async () => {
    const first = await begin();
    await double.complete(sessionOf(first.captureUrl).session_id, 'Approved');
    const done = await returnFromCapture(first.browser, first.captureUrl);
    expect(done.url.startsWith(REDIRECT)).toBe(true);
    const before = double.sessions.size;
    // Same browser, live session: without prompt=login no capture is needed…
    const silent = await begin({}, first.browser);
    expect(silent.captureUrl.startsWith(REDIRECT)).toBe(true);
    // …with prompt=login (or max_age=0) a new selfie is required.
    const forced = await begin({ prompt: 'login' }, first.browser);
    expect(forced.captureUrl.startsWith(double.url)).toBe(true);
    const aged = await begin({ max_age: '0' }, first.browser);
    expect(aged.captureUrl.startsWith(double.url)).toBe(true);
    expect(double.sessions.size).toBe(before + 2);
  });
});
