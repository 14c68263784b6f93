// The product end to end, as a user meets it: Chromium with a fake camera, the IdP and the
// embedded verifier started exactly as `selfie-idp serve` starts them (on the real Redis), and
// openid-client as the relying party. Workflows here check the face match only, with liveness
// off explicitly: a fake camera playing a still picture is precisely what liveness refuses.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Browser, BrowserContext } from 'playwright-core';
import * as oidc from 'openid-client';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startStack } from '../../src/run.ts';
import type { RunningStack } from '../../src/run.ts';
import { launchWithCamera } from '../helpers/chromium.ts';
import { SHARED_DIR, TEST_KEYS_ENCRYPTION_KEY, TEST_REDIS_URL, tempDir, uniquePrefix } from '../helpers/env.ts';
import { freePort, TEST_CLIENTS } from '../helpers/server.ts';
import { selfieRgb } from '../helpers/verifier.ts';
import { writeY4m } from '../helpers/y4m.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';
import { runCli } from '../helpers/cli.ts';

// The relying party's redirect_uri: a tiny server of the test's own (Chromium refuses port 1,
// and Playwright does not route requests reached through a redirect).
let REDIRECT = '';
let CLIENTS: typeof TEST_CLIENTS = [];
let rpServer: Server;
const tmp = tempDir('e2e');
let env: Record<string, string>;
let stack: RunningStack;
let issuer: string;
let amyBrowser: Browser;
let otherBrowser: Browser;
const logs: string[] = [];

const FACE_ONLY_WORKFLOWS = {
  workflows: [
    { workflow_id: 'e2e-reauth', workflow_type: 'biometric_authentication', features: ['FACE_MATCH', 'IP_ANALYSIS'], face_match: { review_threshold: 72, decline_threshold: 60 } },
    { workflow_id: 'e2e-enrol', workflow_type: 'kyc', features: ['IP_ANALYSIS'] },
  ],
};


const cli = (args: string[]) => runCli(args, env);

const rp = () => discover(issuer, CLIENTS[0]!);

async function relyingPartyContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ locale: 'en-GB' });
}

async function authorize(context: BrowserContext, extra: Record<string, string> = {}) {
  const config = await rp();
  const { url, verifier, state } = await authorizationRequest(config, REDIRECT, extra);
  const page = await context.newPage();
  await page.goto(url.href);
  return { config, verifier, state, page };
}

/** The login page's one press (a login_hint only fills the email in), then the capture page. */
async function continueWithSelfie(page: import('playwright-core').Page) {
  await page.getByRole('button', { name: 'Continue with a selfie' }).click();
  await page.waitForURL((u) => u.href.startsWith(stack.verifierUrl!), { timeout: 15_000 });
}

async function takeSelfie(page: import('playwright-core').Page) {
  const take = page.getByRole('button', { name: 'Take selfie', exact: true });
  await expect.poll(() => take.isEnabled(), { timeout: 20_000 }).toBe(true);
  await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement | null)?.videoWidth ?? 0 > 0);
  await take.click();
}

/** After an approved selfie the IdP offers a passkey ("Use this device next time"); these tests say "Not now". */
async function notNowThenBack(page: import('playwright-core').Page) {
  await page.getByRole('button', { name: 'Use this device next time' }).waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Not now' }).click();
  await page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 30_000 });
}

beforeAll(async () => {
  const [port, verifierPort] = [await freePort(), await freePort()];
  rpServer = createServer((_req, res) => res.end('back at the app'));
  await new Promise<void>((r) => rpServer.listen(0, '127.0.0.1', () => r()));
  REDIRECT = `http://127.0.0.1:${(rpServer.address() as { port: number }).port}/cb`;
  CLIENTS = [{ ...TEST_CLIENTS[0]!, redirect_uris: [REDIRECT] }];
  writeFileSync(path.join(tmp.dir, 'clients.json'), JSON.stringify(CLIENTS));
  writeFileSync(path.join(tmp.dir, 'workflows.json'), JSON.stringify(FACE_ONLY_WORKFLOWS));
  env = {
    PORT: String(port),
    HOST: '127.0.0.1',
    ISSUER: `http://127.0.0.1:${port}`,
    DATA_DIR: tmp.dir,
    CLIENTS_FILE: path.join(tmp.dir, 'clients.json'),
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: uniquePrefix('e2e'),
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
  [stack, amyBrowser, otherBrowser] = await Promise.all([startStack(config, env, createLogger('info', sink)), launchWithCamera(amyCam), launchWithCamera(howardCam)]);
}, 120_000);

afterAll(async () => {
  await amyBrowser?.close();
  await otherBrowser?.close();
  await stack?.close();
  await new Promise((r) => rpServer?.close(r));
  tmp.remove();
});

describe('selfie sign-in in a browser, embedded verifier, real Redis', () => {
  let amyId: string;

  it('the operator enrols amy from one shared image (users enrol prints the account as JSON)', async () => {
    const out = await cli(['users', 'enrol', '--email', 'amy@example.com', '--name', 'Amy', '--image', path.join(SHARED_DIR, 'faces', 'amy', 'amy1.png')]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const printed = JSON.parse(out.stdout.trim());
    expect(Object.keys(printed).sort()).toEqual(['account_id', 'email']);
    expect(printed.email).toBe('amy@example.com');
    amyId = printed.account_id;
  }, 60_000);

  it('amy signs in with another image of her face: code → tokens → amr ["face"], acr, auth_time', async () => {
    const context = await relyingPartyContext(amyBrowser);
    const { page, config, verifier, state } = await authorize(context, { login_hint: 'amy@example.com', nonce: 'e2e' });
    // login_hint fills the email in; one press opens the capture page.
    expect(await page.getByLabel('Email').inputValue()).toBe('amy@example.com');
    await continueWithSelfie(page);
    expect(page.url().startsWith(stack.verifierUrl!)).toBe(true);
    await takeSelfie(page);
    await notNowThenBack(page);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: 'e2e' });
    const claims = tokens.claims()!;
    expect(claims.sub).toBe(amyId);
    expect(claims.amr).toEqual(['face']);
    expect(claims.acr).toBe('urn:selfie-idp:acr:face');
    expect(Math.abs((claims.auth_time as number) - Date.now() / 1000)).toBeLessThan(120);

    // prompt=login forces a new capture despite the live session.
    const again = await authorize(context, { login_hint: 'amy@example.com', prompt: 'login' });
    await continueWithSelfie(again.page);
    expect(again.page.url().startsWith(stack.verifierUrl!)).toBe(true);
    await context.close();
  }, 90_000);

  it('someone else (howard) trying to sign in as amy: no code, the Declined page', async () => {
    const context = await relyingPartyContext(otherBrowser);
    const { page } = await authorize(context, { login_hint: 'amy@example.com' });
    await continueWithSelfie(page);
    await takeSelfie(page);
    await page.getByRole('heading', { name: 'We could not verify it is you' }).waitFor({ timeout: 30_000 });
    expect(page.url()).not.toContain('code=');
    expect(page.url()).toMatch(/\/interaction\/[^/]+\/verified\?verificationSessionId=/);
    expect(await page.getByRole('button', { name: 'Try again' }).isVisible()).toBe(true);
    await context.close();
  }, 90_000);

  it('a new user signs up with the camera and is signed in', async () => {
    const context = await relyingPartyContext(otherBrowser);
    const { page, config, verifier, state } = await authorize(context);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill('howard@example.com');
    await page.getByLabel('Display name').fill('Howard');
    await page.getByRole('button', { name: 'Continue to the selfie' }).click();
    await takeSelfie(page);
    await notNowThenBack(page);
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.claims()!.amr).toEqual(['face']);
    const list = await cli(['users', 'list']);
    const howard = list.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((u) => u.email === 'howard@example.com');
    expect(howard.enrolled).toBe(true);
    await context.close();
  }, 90_000);

  it('users delete erases the account: no key about it is left in Redis, its signed-in browser is signed out, its email no longer signs in', async () => {
    // amy signs in once more and keeps this browser's IdP session.
    const context = await relyingPartyContext(amyBrowser);
    const signedIn = await authorize(context, { login_hint: 'amy@example.com' });
    await continueWithSelfie(signedIn.page);
    await takeSelfie(signedIn.page);
    await notNowThenBack(signedIn.page);
    const mentions = async () => {
      const redis = new Redis(TEST_REDIS_URL);
      try {
        const found: string[] = [];
        for (const key of await redis.keys(`${env.REDIS_KEY_PREFIX}*`)) {
          const type = await redis.type(key);
          const value = type === 'hash' ? JSON.stringify(await redis.hgetall(key)) : type === 'set' ? JSON.stringify(await redis.smembers(key)) : type === 'string' ? String(await redis.get(key)) : type === 'zset' ? JSON.stringify(await redis.zrange(key, '0', '-1')) : '';
          if (`${key} ${value}`.includes(amyId) || `${key} ${value}`.toLowerCase().includes('amy@example.com')) found.push(key.slice(env.REDIS_KEY_PREFIX!.length));
        }
        return found;
      } finally {
        redis.disconnect();
      }
    };
    expect((await mentions()).length).toBeGreaterThan(5);

    const out = await cli(['users', 'delete', '--email', 'amy@example.com']);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ deleted: true, template_deleted: true });
    // Key by key, name and value: nothing names the account or its email any more.
    expect(await mentions()).toEqual([]);

    // The browser that was signed in as amy is signed out: the login page, not an error.
    const again = await authorize(context, {});
    expect(again.page.url()).toContain('/interaction/');
    expect(await again.page.getByRole('button', { name: 'Continue with a selfie' }).isVisible()).toBe(true);
    const { page } = await authorize(context, { login_hint: 'amy@example.com' });
    // No longer enrolled: the login page says so instead of opening the camera.
    expect(page.url()).toContain('/interaction/');
    await page.getByRole('button', { name: 'Continue with a selfie' }).click();
    await page.getByText('There is no account with this email yet').waitFor({ timeout: 10_000 });
    expect(page.url()).toContain('/interaction/');
    await context.close();
  }, 90_000);
});
