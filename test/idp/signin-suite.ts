// The IdP's sign-in suite, run against both kinds of verification service (issue 5):
//  - signin-double.test.ts: "real Didit" mode (DIDIT_* configuration) against a local double of the
//    documented contract, where the test decides each outcome;
//  - signin-embedded.test.ts: the embedded verifier, where outcomes come from real captures
//    (another image of the enrolled person → Approved, someone else → Declined).
// Everything the IdP does with the verdicts (webhook checks, callback, tokens) is the same code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { randomUUID, createHmac } from 'node:crypto';
import { signWebhook } from '../../src/didit/index.ts';
import { Browser, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';

export type Outcome = 'Approved' | 'Declined' | 'In Review' | 'Abandoned';

/** What the suite needs from a verification service, whichever it is. */
export type SigninDriver = {
  server: TestServer;
  /** Where capture pages live. */
  captureOrigin: string;
  webhookSecret: string;
  /** Accounts: ada is enrolled (and is the person whose face the driver shows for Approved). */
  adaId: string;
  bobId: string;
  /** Outcomes this service can be made to produce on demand. */
  outcomes: Set<Outcome>;
  /** Make the service decide the session behind this capture URL, as a user would. */
  decide: (captureUrl: string, outcome: Outcome) => Promise<void>;
  /** The session as the service's decision endpoint reports it. */
  session: (captureUrl: string) => Promise<{ session_id: string; vendor_data: string | null; workflow_id: string; metadata: Record<string, unknown> | null; callback: string | null }>;
  /** An operator's decision (update-status → webhook). */
  operatorApprove: (captureUrl: string) => Promise<void>;
  /** Sessions the service has created so far. */
  sessionCount: () => Promise<number>;
  close: () => Promise<void>;
};

const REDIRECT = 'http://127.0.0.1:1/cb';

export function defineSigninSuite(name: string, setup: () => Promise<SigninDriver>): void {
  let d: SigninDriver;
  let server: TestServer;
  let issuer: string;

  const rp = () => discover(issuer, TEST_CLIENTS[0]!);

  /** Authorization request with login_hint; returns where the browser was sent (the capture page). */
  async function begin(extra: Record<string, string> = {}, browser = new Browser()) {
    const config = await rp();
    const { url, verifier, state } = await authorizationRequest(config, REDIRECT, { login_hint: 'ada@example.com', ...extra });
    const { res, url: landed } = await browser.follow(url, issuer);
    return { config, verifier, state, browser, res, captureUrl: landed };
  }

  /** The browser comes back from the capture page; waits through "checking" refreshes. */
  async function returnFromCapture(browser: Browser, captureUrl: string, maxRefreshes = 10) {
    const page = await browser.fetch(captureUrl);
    // The double redirects from its page; the embedded verifier's page script would redirect.
    const back = page.status >= 300 && page.status < 400 ? page.headers.get('location')! : `${issuer}/reauth/callback?verificationSessionId=${(await d.session(captureUrl)).session_id}`;
    let hop = await browser.follow(new URL(back, captureUrl), issuer);
    for (let i = 0; i < maxRefreshes && hop.res.status === 200; i++) {
      const html = await hop.res.clone().text();
      if (!html.includes('http-equiv="refresh"')) break;
      await new Promise((r) => setTimeout(r, 300));
      hop = await browser.follow(hop.url, issuer);
    }
    return hop;
  }

  const webhook = (body: string, headers: Record<string, string>) =>
    fetch(`${issuer}/webhooks/didit`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  beforeAll(async () => {
    d = await setup();
    server = d.server;
    issuer = server.config.issuer;
  }, 120_000);
  afterAll(async () => d?.close());

  describe(name, () => {
    it('login_hint → capture page → Approved webhook → code → ID token with amr face', async () => {
      const flow = await begin({ nonce: 'n1', ui_locales: 'id-ID en' });
      expect(flow.captureUrl.startsWith(d.captureOrigin)).toBe(true);
      const session = await d.session(flow.captureUrl);
      expect(session.vendor_data).toBe(d.adaId);
      expect(session.callback).toBe(`${issuer}/reauth/callback`);
      expect(session.metadata).toMatchObject({ purpose: 'login', from_ip: expect.any(String), device_id: expect.any(String) });
      await d.decide(flow.captureUrl, 'Approved');
      const back = await returnFromCapture(flow.browser, flow.captureUrl);
      expect(back.url.startsWith(REDIRECT)).toBe(true);
      const tokens = await oidc.authorizationCodeGrant(flow.config, new URL(back.url), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: 'n1' });
      const claims = tokens.claims()!;
      expect(claims).toMatchObject({ sub: d.adaId, amr: ['face'], acr: server.config.acr.face });
      expect(typeof claims.auth_time).toBe('number');
      expect(typeof claims.sid).toBe('string');
    });

    it('Declined → no code, the declined page with retries, then recovery when they run out', async () => {
      const flow = await begin();
      await d.decide(flow.captureUrl, 'Declined');
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
        await d.decide(capture, 'Declined');
        back = await returnFromCapture(flow.browser, capture);
        html = await back.res.text();
      }
      expect(html).toContain('used all your tries');
      expect(html).not.toContain('/retry');
      expect(html).toContain('reset your enrolment');
    });

    it('In Review → hold page → operator approval (webhook) → tokens', async (ctx) => {
      if (!d.outcomes.has('In Review')) ctx.skip();
      const flow = await begin();
      await d.decide(flow.captureUrl, 'In Review');
      const hold = await returnFromCapture(flow.browser, flow.captureUrl, 0);
      const html = await hold.res.text();
      expect(html).toContain('being reviewed');
      expect(html).toContain('http-equiv="refresh"');
      await d.operatorApprove(flow.captureUrl);
      const done = await flow.browser.follow(hold.url, issuer);
      expect(done.url.startsWith(REDIRECT)).toBe(true);
    });

    it('the status in the callback query is only a hint', async () => {
      const flow = await begin();
      const session = await d.session(flow.captureUrl);
      const forged = `${issuer}/reauth/callback?verificationSessionId=${session.session_id}&status=Approved`;
      const { res } = await flow.browser.follow(forged, issuer);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('Checking your selfie');
      expect((await server.verificationAttempt(session.session_id))?.status).not.toBe('Approved');
    });

    it('forged, unsigned, replayed and stale webhooks get 401 and complete nothing', async () => {
      const flow = await begin();
      const session = await d.session(flow.captureUrl);
      const now = Math.floor(Date.now() / 1000);
      const envelope = (extra: Record<string, unknown> = {}) => ({
        event_id: randomUUID(), webhook_type: 'status.updated', timestamp: now, created_at: now,
        session_id: session.session_id, status: 'Approved', workflow_id: session.workflow_id, vendor_data: d.adaId, metadata: {}, ...extra,
      });
      const before = (await server.verificationAttempt(session.session_id))?.status ?? null;
      expect(before === null || before === 'In Progress').toBe(true);

      const forged = signWebhook(envelope(), 'not-the-secret-0123456789');
      expect((await webhook(forged.body, forged.headers)).status).toBe(401);
      expect((await webhook(JSON.stringify(envelope()), {})).status).toBe(401);
      const stale = signWebhook(envelope({ timestamp: now - 301 }), d.webhookSecret);
      expect((await webhook(stale.body, stale.headers)).status).toBe(401);
      const tampered = signWebhook(envelope({ status: 'Declined' }), d.webhookSecret);
      expect((await webhook(tampered.body.replace('Declined', 'Approved'), tampered.headers)).status).toBe(401);
      const garbage = 'not json at all';
      expect((await webhook(garbage, { 'X-Signature-V2': createHmac('sha256', d.webhookSecret).update(garbage).digest('hex') })).status).toBe(401);
      expect((await server.verificationAttempt(session.session_id))?.status ?? null).toBe(before);

      const real = signWebhook(envelope({ status: 'Declined' }), d.webhookSecret);
      expect((await webhook(real.body, real.headers)).status).toBe(200);
      expect((await webhook(real.body, real.headers)).status).toBe(401); // replayed event_id
      expect((await server.verificationAttempt(session.session_id))?.status).toBe('Declined');
      const replayApproved = signWebhook({ ...JSON.parse(real.body), status: 'Approved' }, d.webhookSecret);
      expect((await webhook(replayApproved.body, replayApproved.headers)).status).toBe(401);
      expect((await server.verificationAttempt(session.session_id))?.status).toBe('Declined');
      // And the browser is not signed in by any of it.
      const back = await flow.browser.follow(`${issuer}/reauth/callback?verificationSessionId=${session.session_id}`, issuer);
      expect(back.url.startsWith(REDIRECT)).toBe(false);
    });

    it('a webhook for an unknown session gets 200 and a log line; bad input never a 5xx', async () => {
      const now = Math.floor(Date.now() / 1000);
      const unknown = signWebhook({ event_id: randomUUID(), webhook_type: 'status.updated', timestamp: now, created_at: now, session_id: randomUUID(), status: 'Approved', workflow_id: 'x', vendor_data: 'x', metadata: {} }, d.webhookSecret);
      const res = await webhook(unknown.body, unknown.headers);
      expect(res.status).toBe(200);
      expect(server.logs.join('')).toContain('webhook for an unknown or finished verification session');
      const huge = await fetch(`${issuer}/webhooks/didit`, { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) }).catch(() => undefined);
      if (huge) expect(huge.status).toBeLessThan(500);
      const empty = await fetch(`${issuer}/webhooks/didit`, { method: 'POST' });
      expect(empty.status).toBe(401);
    });

    it('a verdict for another account or another sign-in is refused', async () => {
      const flow = await begin();
      const session = await d.session(flow.captureUrl);
      const now = Math.floor(Date.now() / 1000);
      const wrongAccount = signWebhook({ event_id: randomUUID(), webhook_type: 'status.updated', timestamp: now, created_at: now, session_id: session.session_id, status: 'Approved', workflow_id: session.workflow_id, vendor_data: d.bobId, metadata: {} }, d.webhookSecret);
      expect((await webhook(wrongAccount.body, wrongAccount.headers)).status).toBe(200);
      expect((await server.verificationAttempt(session.session_id))?.status ?? null).not.toBe('Approved');

      // Another sign-in (another person's, in another browser) presented in the first browser.
      const second = await begin({ login_hint: 'bob@example.com' }, new Browser());
      await d.decide(second.captureUrl, 'Declined');
      const secondSession = await d.session(second.captureUrl);
      expect(secondSession.session_id).not.toBe(session.session_id);
      const crossed = await flow.browser.follow(`${issuer}/reauth/callback?verificationSessionId=${secondSession.session_id}`, issuer);
      expect(crossed.res.status).toBe(400);
      expect(await crossed.res.text()).toMatch(/another sign-in|another browser/);
      // Nor can the first browser claim it under its own interaction's path.
      const own = await flow.browser.follow(`${issuer}/reauth/callback?verificationSessionId=${session.session_id}`, issuer);
      const ownUid = /\/interaction\/([^/]+)\/verified/.exec(own.url)![1]!;
      const claimed = await flow.browser.fetch(`${issuer}/interaction/${ownUid}/verified?verificationSessionId=${secondSession.session_id}`);
      expect(claimed.status).toBe(400);
      expect(await claimed.text()).toContain('belongs to another sign-in');
    });

    it('an abandoned capture prompts again, without looping back to the camera', async () => {
      const flow = await begin();
      await d.decide(flow.captureUrl, 'Abandoned');
      const back = await returnFromCapture(flow.browser, flow.captureUrl);
      expect(back.url).toMatch(/\/interaction\/[^/?]+\?notice=unfinished$/);
      expect(await back.res.text()).toContain('Your selfie was not finished');
    });

    it('prompt=login and max_age=0 force a new capture even with a live session', async () => {
      const first = await begin();
      await d.decide(first.captureUrl, 'Approved');
      const done = await returnFromCapture(first.browser, first.captureUrl);
      expect(done.url.startsWith(REDIRECT)).toBe(true);
      const before = await d.sessionCount();
      const silent = await begin({}, first.browser);
      expect(silent.captureUrl.startsWith(REDIRECT)).toBe(true);
      expect(await d.sessionCount()).toBe(before);
      const forced = await begin({ prompt: 'login' }, first.browser);
      expect(forced.captureUrl.startsWith(d.captureOrigin)).toBe(true);
      expect(await d.sessionCount()).toBe(before + 1);
      // The service hands the same unfinished session back (the contract), to the newest sign-in.
      const aged = await begin({ max_age: '0' }, first.browser);
      expect(aged.captureUrl).toBe(forced.captureUrl);
      await d.decide(aged.captureUrl, 'Approved');
      const done2 = await returnFromCapture(aged.browser, aged.captureUrl);
      expect(done2.url.startsWith(REDIRECT)).toBe(true);
      const tokens = await oidc.authorizationCodeGrant(aged.config, new URL(done2.url), { pkceCodeVerifier: aged.verifier, expectedState: aged.state, maxAge: 0 });
      expect(tokens.claims()!.amr).toEqual(['face']);
    });
  });
}
