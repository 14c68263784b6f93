// Redis goes away under a running IdP (its own redis-server with append-only persistence, killed
// and started again on the same port and data): requests that need it answer 503 with a clear page
// or JSON at once (no hang, no 500), /readyz says why, and when Redis is back everything recovers by
// itself: a sign-in whose verdict was stored before the outage completes. Remote mode against the
// Didit double, so the outcome of the capture is the test's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { signWebhook } from '../../src/didit/index.ts';
import { remoteModeEnv, startDiditDouble } from '../helpers/didit-double.ts';
import type { DiditDouble } from '../helpers/didit-double.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';
import { startPersistentRedis } from '../helpers/redis-topology.ts';
import { Browser, TEST_CLIENTS, continueWithSelfie, enrolRemoteAccount, startTestServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const REDIRECT = 'http://127.0.0.1:1/cb';
// A guard against hangs, not a speed figure: an outage answer must come back, and well before this.
const NO_HANG = () => ({ signal: AbortSignal.timeout(10_000) });

let redis: Awaited<ReturnType<typeof startPersistentRedis>>;
let double: DiditDouble;
let server: TestServer;
let adaId: string;

beforeAll(async () => {
  redis = await startPersistentRedis('idp-outage');
  double = await startDiditDouble();
  server = await startTestServer({ ...remoteModeEnv(double), REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'outage:' }, { signin: { lookupsPerIpPerHour: 1000 } });
  double.setWebhookUrl(`${server.config.issuer}/webhooks/didit`);
  adaId = await enrolRemoteAccount(server, 'ada@example.com', 'Ada');
}, 60_000);

afterAll(async () => {
  await server?.stop().catch(() => undefined);
  await double?.close();
  await redis?.stop();
});

describe('Redis outage under the IdP', () => {
  it('503 while Redis is down (pages, JSON, readyz, webhooks), then recovery by itself; the sign-in whose verdict was stored completes', async () => {
    const issuer = server.config.issuer;
    const config = await discover(issuer, TEST_CLIENTS[0]!);
    const browser = new Browser();
    const { url, verifier, state } = await authorizationRequest(config, REDIRECT, { login_hint: 'ada@example.com' });
    const prompt = await browser.follow(url, issuer);
    const press = await continueWithSelfie(browser, issuer, prompt);
    const captureUrl = press.headers.get('location')!;
    const token = new URL(captureUrl).pathname.split('/').pop();
    const session = [...double.sessions.values()].find((s) => s.session_token === token)!;
    // The verdict arrives and is stored (append-only, fsync always) before Redis dies.
    expect(await double.complete(session.session_id, 'Approved')).toBe(200);
    expect((await server.verificationAttempt(session.session_id))?.status).toBe('Approved');

    await redis.kill();

    const ready = await fetch(`${issuer}/readyz`, NO_HANG());
    expect(ready.status).toBe(503);
    expect(ready.headers.get('retry-after')).toBe('5');
    expect(await ready.json()).toMatchObject({ status: 'not ready', store: 'unreachable', reason: expect.stringMatching(/Redis unavailable/) });

    // A page of our login app (the browser's way back from the capture): a readable 503 page.
    const back = await browser.fetch(`${issuer}/reauth/callback?verificationSessionId=${session.session_id}`, NO_HANG());
    expect(back.status).toBe(503);
    const page = await back.text();
    expect(page).toContain('cannot reach its data store');
    expect(page).not.toMatch(/at .*\.ts:\d+/); // no stack

    // The OAuth core (a new authorization request): 503 page with temporarily_unavailable.
    const fresh = await authorizationRequest(config, REDIRECT, { login_hint: 'ada@example.com' });
    const core = await fetch(fresh.url, { ...NO_HANG(), headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(core.status).toBe(503);
    expect(await core.text()).toContain('temporarily_unavailable');

    // JSON callers get JSON: the token endpoint, and the webhook receiver (whose sender retries a 503).
    const tokenRes = await fetch(`${issuer}/token`, {
      ...NO_HANG(),
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${TEST_CLIENTS[0]!.client_id}:${TEST_CLIENTS[0]!.client_secret}`).toString('base64')}` },
      body: 'grant_type=authorization_code&code=nope&redirect_uri=' + encodeURIComponent(REDIRECT),
    });
    expect(tokenRes.status).toBe(503);
    expect(await tokenRes.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.stringContaining('cannot reach its data store') });
    // A webhook delivered during the outage: 503, so its sender retries it (same event_id).
    const now = Math.floor(Date.now() / 1000);
    const event = signWebhook(
      { event_id: randomUUID(), webhook_type: 'status.updated', timestamp: now, created_at: now, session_id: session.session_id, status: 'Approved', workflow_id: session.workflow_id, vendor_data: session.vendor_data, metadata: session.metadata },
      double.webhookSecret,
    );
    const deliver = () => fetch(`${issuer}/webhooks/didit`, { ...NO_HANG(), method: 'POST', headers: { 'content-type': 'application/json', ...event.headers }, body: event.body });
    const during = await deliver();
    expect(during.status).toBe(503);
    expect(await during.json()).toMatchObject({ error: 'temporarily_unavailable' });

    // Redis returns (same port, same append-only file): the instance recovers without a restart.
    await redis.start();
    const deadline = Date.now() + 15_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = (await fetch(`${issuer}/readyz`, NO_HANG())).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);

    // The webhook that got a 503 is handled on its retry, not refused as a replay; a third copy is.
    expect((await deliver()).status).toBe(200);
    expect((await deliver()).status).toBe(401);

    // The pending sign-in completes: its Approved verdict survived the outage.
    let hop = await browser.follow(`${issuer}/reauth/callback?verificationSessionId=${session.session_id}`, issuer);
    for (let i = 0; i < 10 && hop.res.status === 200 && (await hop.res.clone().text()).includes('http-equiv="refresh"'); i++) {
      await new Promise((r) => setTimeout(r, 300));
      hop = await browser.follow(hop.url, issuer);
    }
    expect(hop.url.startsWith(REDIRECT)).toBe(true);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(hop.url), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.claims()).toMatchObject({ sub: adaId, amr: ['face'] });
  }, 60_000);
});
