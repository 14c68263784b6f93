// Face throttling per account (docs/signin.md, "Throttling"), through real servers on the real
// Redis against the Didit double (the test decides each verdict): two instances share one key
// prefix as behind a load balancer, and a third one started later sees the same counters. The
// throttle's clock is injected and frozen, moved by the test: no test here waits for 30 s.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts } from '../../src/idp/accounts.ts';
import { FaceThrottle, delaySeconds, describeWait, FACE_DISABLED } from '../../src/idp/signin/throttle.ts';
import { remoteModeEnv, startDiditDouble } from '../helpers/didit-double.ts';
import type { DiditDouble } from '../helpers/didit-double.ts';
import { TEST_KEYS_ENCRYPTION_KEY, TEST_REDIS_URL, uniquePrefix } from '../helpers/env.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';
import { Browser, continueWithSelfie, startTestServer, TEST_CLIENTS } from '../helpers/server.ts';
import type { TestServer } from '../helpers/server.ts';
import { runCli } from '../helpers/cli.ts';

const REDIRECT = 'http://127.0.0.1:1/cb';
const PREFIX = uniquePrefix('throttle');
let clock = Date.parse('2026-12-01T12:00:00Z');
const now = () => clock;

let double: DiditDouble;
let servers: TestServer[] = [];
let adaId: string;

function remoteEnv(extra: Record<string, string> = {}) {
  return {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: PREFIX,
    ...remoteModeEnv(double, { portraitKey: PORTRAIT_KEY }),
    ...extra,
  };
}
const PORTRAIT_KEY = randomBytes(32).toString('base64');
const start = (extra: Record<string, string> = {}, signin: Record<string, number> = { lookupsPerIpPerHour: 1000, verificationsPerIpPerHour: 1000 }) =>
  startTestServer(remoteEnv(extra), { signin, now });

beforeAll(async () => {
  double = await startDiditDouble();
  // One after the other: the first generates the keys in the store, the second loads them.
  servers.push(await start());
  servers.push(await start());
  double.setWebhookUrl(`${servers[0]!.config.issuer}/webhooks/didit`);
  const accounts = new Accounts(servers[0]!.store);
  adaId = (await accounts.create({ email: 'ada@example.com', name: 'Ada' })).account.id;
  await accounts.markEnrolled(adaId);
}, 60_000);
afterAll(async () => {
  for (const s of servers) await s.stop();
  servers = [];
  await double?.close();
});

const sessionOf = (captureUrl: string) => {
  const token = new URL(captureUrl).pathname.split('/').pop();
  return [...double.sessions.values()].find((x) => x.session_token === token)!;
};

/** A new sign-in for `email` on `server` up to the press on "Continue with a selfie". */
async function press(server: TestServer, email = 'ada@example.com') {
  const issuer = server.config.issuer;
  const { url } = await authorizationRequest(await discover(issuer, TEST_CLIENTS[0]!), REDIRECT, { login_hint: email });
  const browser = new Browser();
  const prompt = await browser.follow(url, issuer);
  const res = await continueWithSelfie(browser, issuer, prompt);
  return { browser, res, issuer };
}

/** The browser comes back from a capture that the service decided; returns the page it lands on. */
async function decideAndReturn(flow: Awaited<ReturnType<typeof press>>, outcome: 'Declined' | 'Approved') {
  const capture = flow.res.headers.get('location')!;
  await double.complete(sessionOf(capture).session_id, outcome);
  const back = (await flow.browser.fetch(capture)).headers.get('location')!;
  const landed = await flow.browser.follow(back, flow.issuer);
  return { url: landed.url, status: landed.res.status, html: await landed.res.text() };
}

async function failOnce(server: TestServer) {
  const flow = await press(server);
  expect(flow.res.status).toBe(303);
  const page = await decideAndReturn(flow, 'Declined');
  expect(page.html).toContain('We could not verify it is you');
  return page.html;
}

const cli = (args: string[]) => runCli(args, { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: PREFIX, KEYS_ENCRYPTION_KEY: TEST_KEYS_ENCRYPTION_KEY, LOG_LEVEL: 'silent' });
const show = async (email = 'ada@example.com') => JSON.parse((await cli(['users', 'show', '--email', email])).stdout);

describe('the schedule', () => {
  const settings = { freeFailures: 10, firstDelaySeconds: 30, maxDelaySeconds: 86_400, disableAfter: 100 };
  it('no wait for 10 failures, then 30 s doubling per failure, capped', () => {
    expect([0, 9, 10, 11, 12, 13].map((n) => delaySeconds(settings, n))).toEqual([0, 0, 30, 60, 120, 240]);
    expect(delaySeconds(settings, 22)).toBe(86_400);
    expect(delaySeconds(settings, 99)).toBe(86_400);
    expect(describeWait(30)).toBe('30 seconds');
    expect(describeWait(240)).toBe('4 minutes');
    expect(describeWait(86_400)).toBe('24 hours');
  });
});

describe('face throttling across instances', () => {
  it('10 consecutive failures on two instances: the 11th attempt waits 30 s and the page says so', async () => {
    let html = '';
    for (let i = 0; i < 10; i++) html = await failOnce(servers[i % 2]!);
    expect(html).toContain('You can try again in 30 seconds.');
    // The other instance refuses to start the 11th selfie, says how long, and not why.
    const early = await press(servers[1]!);
    expect(early.res.status).toBe(429);
    expect(early.res.headers.get('retry-after')).toBe('30');
    const text = await early.res.text();
    expect(text).toContain('You can try again in 30 seconds.');
    expect(text).not.toMatch(/failed|failure/i);
    expect(await show()).toMatchObject({ face_failures: 10, face_disabled: false, face_retry_at: new Date(clock + 30_000).toISOString() });

    clock += 29_000;
    expect((await press(servers[0]!)).res.headers.get('retry-after')).toBe('1');
    clock += 1_000;
    // Once the wait is over, one attempt: a parallel sign-in (another browser) gets no turn.
    const eleventh = await press(servers[0]!);
    expect(eleventh.res.status).toBe(303);
    const parallel = await press(servers[1]!);
    expect(parallel.res.status).toBe(429);
    expect(await parallel.res.text()).toContain('You can try again in');
    const page = await decideAndReturn(eleventh, 'Declined');
    expect(page.html).toContain('You can try again in 60 seconds.');
    expect((await show()).face_failures).toBe(11);
  });

  it('counters survive a restart: a new instance on the same Redis still makes the 12th wait', async () => {
    for (const s of servers) await s.stop();
    servers = [await start()];
    double.setWebhookUrl(`${servers[0]!.config.issuer}/webhooks/didit`);
    const again = await press(servers[0]!);
    expect(again.res.status).toBe(429);
    expect(again.res.headers.get('retry-after')).toBe('60');
  });

  it('the 100th consecutive failure disables face sign-in until the operator unlocks it', async () => {
    // 88 more failures recorded as the sign-ins would (failure 12 … 99).
    const throttle = new FaceThrottle(servers[0]!.store, servers[0]!.config.throttle, now);
    for (let i = 0; i < 88; i++) await throttle.recordFailure(adaId);
    expect((await show()).face_failures).toBe(99);
    clock += 86_400_000; // the longest wait
    const html = await failOnce(servers[0]!);
    expect(html).toContain(FACE_DISABLED);
    expect(html).not.toContain('/retry');
    const refused = await press(servers[0]!);
    expect(refused.res.status).toBe(403);
    expect(await refused.res.text()).toContain(FACE_DISABLED);
    clock += 365 * 86_400_000; // time alone does not lift it
    expect((await press(servers[0]!)).res.status).toBe(403);
    expect(await show()).toMatchObject({ face_failures: 100, face_disabled: true });

    const unlocked = await cli(['users', 'unlock', '--email', 'ada@example.com']);
    expect(unlocked.code).toBe(0);
    expect(JSON.parse(unlocked.stdout)).toMatchObject({ unlocked: true, face_failures_before: 100, face_disabled_before: true });
    const list = (await cli(['users', 'list'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(list.find((a) => a.email === 'ada@example.com')).toMatchObject({ face_failures: 0, face_disabled: false, face_retry_at: null });
    expect((await press(servers[0]!)).res.status).toBe(303);
  });

  it('an approved selfie resets the count', async () => {
    for (let i = 0; i < 3; i++) await failOnce(servers[0]!);
    expect((await show()).face_failures).toBe(3);
    const page = await decideAndReturn(await press(servers[0]!), 'Approved');
    expect(page.url.startsWith(REDIRECT)).toBe(true);
    expect(await show()).toMatchObject({ face_failures: 0, face_last_failure_at: null });
  });

  it('CLI: bad usage and unknown accounts get clear errors', async () => {
    const noEmail = await cli(['users', 'unlock']);
    expect(noEmail.code).toBe(2);
    expect(noEmail.stderr).toContain('users unlock: --email is required');
    const unknown = await cli(['users', 'show', '--email', 'nobody@example.com']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no account with email nobody@example.com');
  });
});

describe('one selfie per turn', () => {
  it("past the free failures a turn binds the first session its sign-in opens; another session in that turn is refused", async () => {
    const { RedisStore } = await import('../../src/store/redis.ts');
    const store = await RedisStore.connect({ url: TEST_REDIS_URL, keyPrefix: uniquePrefix('turn') });
    try {
      const throttle = new FaceThrottle(store, { freeFailures: 10, firstDelaySeconds: 30, maxDelaySeconds: 86_400, disableAfter: 100 }, now);
      expect(await throttle.bindTurnSession('acct', 9, 'any')).toBe(true); // free failures: no turns
      expect(await throttle.bindTurnSession('acct', 11, 's-1')).toBe(true);
      expect(await throttle.bindTurnSession('acct', 11, 's-1')).toBe(true); // back to its own session
      expect(await throttle.bindTurnSession('acct', 11, 's-2')).toBe(false); // a second selfie in one turn
      expect(await throttle.bindTurnSession('acct', 12, 's-2')).toBe(true); // the next failure's turn
    } finally {
      await store.close();
    }
  });
});

describe('verification sessions per IP', () => {
  it('are limited, whichever account they are for', async () => {
    const server = await startTestServer(remoteEnv({ REDIS_KEY_PREFIX: uniquePrefix('throttle-ip') }), { signin: { lookupsPerIpPerHour: 1000, verificationsPerIpPerHour: 2 }, now });
    try {
      const accounts = new Accounts(server.store);
      for (const email of ['p1@example.com', 'p2@example.com', 'p3@example.com']) await accounts.markEnrolled((await accounts.create({ email, name: email })).account.id);
      expect((await press(server, 'p1@example.com')).res.status).toBe(303);
      expect((await press(server, 'p2@example.com')).res.status).toBe(303);
      const third = await press(server, 'p3@example.com');
      expect(third.res.status).toBe(429);
      expect(Number(third.res.headers.get('retry-after'))).toBeGreaterThan(3000);
      expect(await third.res.text()).toContain('Too many attempts from your network');
    } finally {
      await server.stop();
    }
  });
});
