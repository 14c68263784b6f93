// The IdP on Redis Sentinel (its own master, replica and two sentinels, test/helpers/redis-topology.ts)
// through a failover in the middle of sign-ins: every verdict the IdP acknowledged (webhook 200)
// before the failover survives it, and those sign-ins complete on the new master, as do sign-ins
// started after it. Remote mode against the Didit double.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as oidc from 'openid-client';
import { remoteModeEnv, startDiditDouble } from '../helpers/didit-double.ts';
import type { DiditDouble } from '../helpers/didit-double.ts';
import { TEST_KEYS_ENCRYPTION_KEY } from '../helpers/env.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';
import { SENTINEL_NAME, startSentinel } from '../helpers/redis-topology.ts';
import { Browser, TEST_CLIENTS, continueWithSelfie, enrolRemoteAccount, startTestServer } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';

const REDIRECT = 'http://127.0.0.1:1/cb';

let sentinel: Awaited<ReturnType<typeof startSentinel>>;
let double: DiditDouble;
let server: TestServer;
let adaId: string;

beforeAll(async () => {
  sentinel = await startSentinel();
  double = await startDiditDouble();
  server = await startTestServer(
    {
      ...remoteModeEnv(double),
      REDIS_SENTINELS: sentinel.sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
      REDIS_SENTINEL_NAME: SENTINEL_NAME,
      REDIS_KEY_PREFIX: 'failover:',
      KEYS_ENCRYPTION_KEY: TEST_KEYS_ENCRYPTION_KEY,
    },
    { signin: { lookupsPerIpPerHour: 1000 } },
  );
  double.setWebhookUrl(`${server.config.issuer}/webhooks/didit`);
  adaId = await enrolRemoteAccount(server, 'ada@example.com', 'Ada');
}, 60_000);

afterAll(async () => {
  await server?.stop().catch(() => undefined);
  await double?.close();
  await sentinel?.stop();
});

describe('a Sentinel failover in the middle of sign-ins', () => {
  it('verdicts stored before the failover survive it; every sign-in completes', async () => {
    const issuer = server.config.issuer;
    expect(server.store.description).toMatch(/^redis sentinel/);
    const config = await discover(issuer, TEST_CLIENTS[0]!);

    const start = async () => {
      const browser = new Browser();
      const req = await authorizationRequest(config, REDIRECT, { login_hint: 'ada@example.com' });
      const prompt = await browser.follow(req.url, issuer);
      const press = await continueWithSelfie(browser, issuer, prompt);
      const token = new URL(press.headers.get('location')!).pathname.split('/').pop();
      const session = [...double.sessions.values()].find((s) => s.session_token === token)!;
      return { browser, req, session };
    };
    const finish = async (flow: Awaited<ReturnType<typeof start>>) => {
      let hop = await flow.browser.follow(`${issuer}/reauth/callback?verificationSessionId=${flow.session.session_id}`, issuer);
      for (let i = 0; i < 10 && hop.res.status === 200 && (await hop.res.clone().text()).includes('http-equiv="refresh"'); i++) {
        await new Promise((r) => setTimeout(r, 300));
        hop = await flow.browser.follow(hop.url, issuer);
      }
      expect(hop.url.startsWith(REDIRECT)).toBe(true);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(hop.url), { pkceCodeVerifier: flow.req.verifier, expectedState: flow.req.state });
      expect(tokens.claims()).toMatchObject({ sub: adaId, amr: ['face'] });
    };

    // Three sign-ins whose Approved verdict the IdP acknowledged before the failover.
    const before = [];
    for (let i = 0; i < 3; i++) {
      const flow = await start();
      expect(await double.complete(flow.session.session_id, 'Approved')).toBe(200);
      before.push(flow);
    }
    const oldMaster = await sentinel.masterPort();
    const newMaster = await sentinel.failover();
    expect(newMaster).not.toBe(oldMaster);

    // Until the old master has resynced as the new one's replica, writes are refused (503: no
    // replica confirms them, docs/operations.md); the browsers come back once it has.
    await sentinel.healed();
    // ...and this instance has found the new master by itself (readyz turns 200 again).
    for (let i = 0; i < 100 && (await fetch(`${issuer}/readyz`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await fetch(`${issuer}/readyz`)).status).toBe(200);
    for (const flow of before) expect((await server.verificationAttempt(flow.session.session_id))?.status).toBe('Approved');
    for (const flow of before) await finish(flow);

    // And a sign-in begun after the failover, on the new master.
    const after = await start();
    expect(await double.complete(after.session.session_id, 'Approved')).toBe(200);
    await finish(after);
  }, 60_000);
});
