// The sign-in suite in "real Didit" mode: DIDIT_* configuration pointing at a local double of the
// documented contract. The outcome of each capture is chosen by the test. Plus what only this mode
// does: the IdP keeps the enrolment portrait and sends it with each login.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { Accounts } from '../../src/idp/accounts.ts';
import { PortraitVault } from '../../src/idp/signin/portraits.ts';
import { remoteModeEnv, startDiditDouble } from '../helpers/didit-double.ts';
import type { DiditDouble } from '../helpers/didit-double.ts';
import { Browser, continueWithSelfie, startTestServer, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { defineSigninSuite } from './signin-suite.ts';

const REDIRECT = 'http://127.0.0.1:1/cb';

async function startRemote(): Promise<{ double: DiditDouble; server: TestServer; adaId: string; bobId: string; vault: PortraitVault }> {
  const double = await startDiditDouble();
  const server = await startTestServer({
    ...remoteModeEnv(double),
  }, { signin: { lookupsPerIpPerHour: 1000 } });
  double.setWebhookUrl(`${server.config.issuer}/webhooks/didit`);
  const accounts = new Accounts(server.store);
  const adaId = (await accounts.create({ email: 'ada@example.com', name: 'Ada' })).account.id;
  await accounts.markEnrolled(adaId);
  const bobId = (await accounts.create({ email: 'bob@example.com', name: 'Bob' })).account.id;
  await accounts.markEnrolled(bobId);
  if (server.config.verification.mode !== 'remote') throw new Error('expected remote mode');
  const vault = new PortraitVault(server.store, server.config.verification.portraitKey!);
  await vault.save(adaId, Buffer.from('fake-jpeg-bytes'));
  return { double, server, adaId, bobId, vault };
}

const sessionOf = (double: DiditDouble, captureUrl: string) => {
  const token = new URL(captureUrl).pathname.split('/').pop();
  const s = [...double.sessions.values()].find((x) => x.session_token === token);
  if (!s) throw new Error(`no double session for ${captureUrl}`);
  return s;
};

defineSigninSuite('sign-in suite against a Didit double (remote mode)', async () => {
  const { double, server, adaId, bobId } = await startRemote();
  return {
    server,
    captureOrigin: double.url,
    webhookSecret: double.webhookSecret,
    adaId,
    bobId,
    outcomes: new Set(['Approved', 'Declined', 'In Review', 'Abandoned'] as const),
    decide: async (captureUrl, outcome) => void (await double.complete(sessionOf(double, captureUrl).session_id, outcome)),
    session: async (captureUrl) => sessionOf(double, captureUrl),
    operatorApprove: async (captureUrl) => void (await double.complete(sessionOf(double, captureUrl).session_id, 'Approved')),
    approvesEnrolments: true,
    sessionCount: async () => double.sessions.size,
    close: async () => {
      await server.stop();
      await double.close();
    },
  };
});

describe('remote mode only', () => {
  let env: Awaited<ReturnType<typeof startRemote>>;
  beforeAll(async () => {
    env = await startRemote();
  });
  afterAll(async () => {
    await env.server.stop();
    await env.double.close();
  });

  async function begin(browser = new Browser(), extra: Record<string, string> = {}) {
    const meta = TEST_CLIENTS[0]!;
    const config = await oidc.discovery(new URL(env.server.config.issuer), meta.client_id, meta.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid email', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's', ...extra });
    const landed = await browser.follow(url, env.server.config.issuer);
    if (!extra.login_hint) return { config, verifier, browser, ...landed };
    const press = await continueWithSelfie(browser, env.server.config.issuer, landed);
    return { config, verifier, browser, res: press, url: press.headers.get('location')! };
  }

  it('sends the kept portrait, the workflow and the language to the service', async () => {
    const flow = await begin(new Browser(), { login_hint: 'ada@example.com', ui_locales: 'id-ID en' });
    const session = sessionOf(env.double, flow.url);
    expect(session.workflow_id).toBe('wf-reauth');
    expect(session.language).toBe('id');
    expect(Buffer.from(session.portrait_image!, 'base64').toString()).toBe('fake-jpeg-bytes');
  });

  it('with no webhook at all, the callback asks the decision endpoint', async () => {
    const flow = await begin(new Browser(), { login_hint: 'ada@example.com' });
    sessionOf(env.double, flow.url).status = 'Approved'; // decided at the service, webhook lost
    const started = Date.now();
    let hop = await flow.browser.follow(flow.url, env.server.config.issuer);
    for (let i = 0; i < 20 && !hop.url.startsWith(REDIRECT); i++) {
      await new Promise((r) => setTimeout(r, 300));
      hop = await flow.browser.follow(hop.url, env.server.config.issuer);
    }
    expect(hop.url.startsWith(REDIRECT)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(env.server.config.signin.webhookWaitSeconds * 1000 - 500);
  });

  it('a decision endpoint outage keeps the browser waiting instead of failing', async () => {
    const flow = await begin(new Browser(), { login_hint: 'ada@example.com' });
    env.double.failDecisions = true;
    try {
      let hop = await flow.browser.follow(flow.url, env.server.config.issuer);
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 300));
        hop = await flow.browser.follow(hop.url, env.server.config.issuer);
      }
      expect(hop.res.status).toBe(200);
      expect(await hop.res.text()).toContain('Checking your selfie');
      expect(env.server.logs.join('')).toContain('decision endpoint unavailable');
    } finally {
      env.double.failDecisions = false;
    }
  });

  it('sign-up declined because the email already has a face (ALREADY_ENROLLED): says so, no retry offered', async () => {
    const { browser, url } = await begin();
    const issuer = env.server.config.issuer;
    const uid = /\/interaction\/([^/?]+)/.exec(url)![1]!;
    const html = await (await browser.fetch(`${issuer}/interaction/${uid}/signup`)).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const res = await browser.fetch(`${issuer}/interaction/${uid}/signup`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, email: 'gus@example.com', name: 'Gus' }).toString() });
    const session = sessionOf(env.double, res.headers.get('location')!);
    session.risks = ['ALREADY_ENROLLED'];
    await env.double.complete(session.session_id, 'Declined');
    const back = await browser.follow(`${issuer}/reauth/callback?verificationSessionId=${session.session_id}`, issuer);
    expect(back.res.status).toBe(409);
    const page = await back.res.text();
    expect(page).toContain('already been set up');
    expect(page).not.toContain('/retry');
  });

  it('sign-up: enrolment session → Approved → account enrolled, portrait kept, signed in', async () => {
    const { browser, url, config, verifier } = await begin();
    const issuer = env.server.config.issuer;
    const uid = /\/interaction\/([^/?]+)/.exec(url)![1]!;
    const html = await (await browser.fetch(`${issuer}/interaction/${uid}/signup?email=carol%40example.com`)).text();
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
    const session = sessionOf(env.double, capture);
    expect(session.workflow_id).toBe('wf-enrol');
    expect(session.metadata).toMatchObject({ purpose: 'enrol' });
    session.capturedImage = Buffer.from('carol-portrait-jpeg');
    await env.double.complete(session.session_id, 'Approved');
    const done = await browser.follow(capture, issuer);
    expect(done.url.startsWith(REDIRECT)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(done.url), { pkceCodeVerifier: verifier, expectedState: 's' });
    expect(tokens.claims()).toMatchObject({ amr: ['face'], acr: env.server.config.acr.face });
    const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
    expect(info).toMatchObject({ email: 'carol@example.com', email_verified: false });
    const carol = await new Accounts(env.server.store).findByEmail('carol@example.com');
    expect(carol?.enrolledAt).toBeGreaterThan(0);
    expect((await env.vault.load(carol!.id))?.toString()).toBe('carol-portrait-jpeg');
  });
});
