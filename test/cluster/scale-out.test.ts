// Two full instances (`selfie-idp serve`: IdP + embedded verifier, real child processes) on one
// Redis behind a real haproxy balancing every request round-robin (test/helpers/cluster.ts).
// Sign-ins whose consecutive requests land on different instances, in openid-client and in
// Chromium; an instance stopped with SIGTERM under load (nothing fails: it drains first); an
// instance killed with SIGKILL in the middle of a sign-in while it holds that sign-in's webhook
// (the sign-in completes through the other, which delivers the webhook once).
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import path from 'node:path';
import * as oidc from 'openid-client';
import type { Browser as Chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { Accounts } from '../../src/idp/accounts.ts';
import { openStore } from '../../src/store/index.ts';
import { enrolFromImages, lazyFaceEngine, parseTemplateKeys } from '../../src/verifier/index.ts';
import { launchWithCamera } from '../helpers/chromium.ts';
import { startCluster, startWebhookGate } from '../helpers/cluster.ts';
import type { Cluster, WebhookGate } from '../helpers/cluster.ts';
import { sleep, tempDir } from '../helpers/env.ts';
import { authorizationRequest, discover } from '../helpers/rp.ts';
import { Browser, TEST_CLIENTS, continueWithSelfie } from '../helpers/server.ts';
import { facePng, selfieJpeg, selfieRgb, waitFor } from '../helpers/verifier.ts';
import { writeY4m } from '../helpers/y4m.ts';

const FACE_ONLY_WORKFLOWS = {
  workflows: [
    { workflow_id: 'cluster-reauth', workflow_type: 'biometric_authentication', features: ['FACE_MATCH', 'IP_ANALYSIS'], face_match: { review_threshold: 72, decline_threshold: 60 } },
    { workflow_id: 'cluster-enrol', workflow_type: 'kyc', features: ['IP_ANALYSIS'] },
  ],
};

let cluster: Cluster;
let gate: WebhookGate;
const cam = tempDir('cluster-cam');
let rpServer: Server;
let REDIRECT = '';
let CLIENT = TEST_CLIENTS[0]!;
let chromium: Chromium;
// Two people, so that two sign-ins at once are not the same account's (a new sign-in of an
// account takes over its unfinished verification session, by design).
const amy: Person = { email: 'amy@example.com', selfie: Buffer.alloc(0), id: '' };
const raj: Person = { email: 'raj@example.com', selfie: Buffer.alloc(0), id: '' };

/**
 * A browser without a browser that notes which instance served each of its requests. With
 * `alternate`, each side's requests are pinned to i0, i1, i0… (haproxy's `use-server`), so that
 * consecutive requests land on different instances every time, whatever else haproxy balances.
 */
class TracedBrowser extends Browser {
  readonly served: { side: 'idp' | 'verifier'; pinned: string | undefined; by: string }[] = [];
  readonly #alternate: boolean;
  constructor(alternate = false) {
    super();
    this.#alternate = alternate;
  }
  override async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const side = String(url).startsWith(cluster.issuer) ? 'idp' : 'verifier';
    const pinned = this.#alternate ? `i${this.served.filter((s) => s.side === side).length % 2}` : undefined;
    const headers = new Headers(init.headers);
    if (pinned) headers.set('x-pin', pinned);
    const res = await super.fetch(url, { ...init, headers });
    this.served.push({ side, pinned, by: res.headers.get('x-served-by') ?? '?' });
    return res;
  }
}

type SignInHooks = { alternate?: boolean; person?: Person; beforeUpload?: () => Promise<void>; uploadTo?: string; afterUpload?: (servedBy: string | null) => Promise<void> };
type Person = { email: string; selfie: Buffer; id: string };

/** authorize → login (login_hint) → capture page → upload → callback → code → tokens, all through haproxy. */
async function signIn(hooks: SignInHooks = {}) {
  const person = hooks.person ?? amy;
  const browser = new TracedBrowser(hooks.alternate);
  const rp = await discover(cluster.issuer, CLIENT);
  const { url, verifier, state } = await authorizationRequest(rp, REDIRECT, { login_hint: person.email });
  const started = await continueWithSelfie(browser, cluster.issuer, await browser.follow(url, cluster.issuer));
  const captureUrl = started.headers.get('location');
  if (started.status !== 303 || !captureUrl?.startsWith(cluster.verifierUrl)) throw new Error(`no capture page: ${started.status} ${captureUrl}`);
  const html = await (await browser.fetch(captureUrl)).text();
  const cfg = JSON.parse(/<script type="application\/json" id="capture-config">([\s\S]*?)<\/script>/.exec(html)![1]!);
  await hooks.beforeUpload?.();
  const up = await browser.fetch(new URL(cfg.uploadUrl, captureUrl), { method: 'POST', headers: { 'content-type': 'image/jpeg', 'x-upload-token': cfg.uploadToken, ...(hooks.uploadTo ? { 'x-pin': hooks.uploadTo } : {}) }, body: new Uint8Array(person.selfie) });
  const verdict = (await up.json()) as { status: string; callback?: string; redirect?: string };
  if (verdict.status !== 'Approved') throw new Error(`verifier said ${JSON.stringify(verdict)}`);
  await hooks.afterUpload?.(up.headers.get('x-served-by'));
  const back = verdict.redirect ?? verdict.callback!;
  const sessionId = new URL(back).searchParams.get('verificationSessionId');
  let hop = await browser.follow(back, cluster.issuer);
  // The "checking" page refreshes each second until the verdict is in (webhook or decision endpoint).
  for (let i = 0; i < 30 && !hop.url.startsWith(REDIRECT); i++) {
    if (hop.res.status !== 200) throw new Error(`${hop.res.status} at ${hop.url}`);
    await sleep(1000);
    hop = await browser.follow(hop.url, cluster.issuer);
  }
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(hop.url), { pkceCodeVerifier: verifier, expectedState: state });
  return { claims: tokens.claims()!, served: browser.served, sessionId };
}

beforeAll(async () => {
  rpServer = createServer((_req, res) => res.end('back at the app'));
  await new Promise<void>((r) => rpServer.listen(0, '127.0.0.1', () => r()));
  REDIRECT = `http://127.0.0.1:${(rpServer.address() as { port: number }).port}/cb`;
  CLIENT = { ...TEST_CLIENTS[0]!, redirect_uris: [REDIRECT] };
  // Instance i0 sends its webhooks through a gate the SIGKILL test closes (see there).
  gate = await startWebhookGate();
  const starting = startCluster({
    label: 'scale-out',
    clients: [CLIENT],
    workflows: FACE_ONLY_WORKFLOWS,
    // One client address for everything: the per-IP limits would stop the load test.
    config: { signin: { lookupsPerIpPerHour: 1_000_000, verificationsPerIpPerHour: 1_000_000 }, passkeys: { offerAfterFaceSignin: false } },
    env: {
      SHUTDOWN_GRACE_SECONDS: '20',
      // haproxy takes an instance out after 3 failed checks 500 ms apart.
      SHUTDOWN_DRAIN_SECONDS: '2',
      // A dead instance's claimed job goes to another after this.
      VERIFIER_QUEUE_CLAIM_TIMEOUT: '2s',
      VERIFIER_RATE_LIMITS: 'create=100000,read=100000,write=100000',
    },
    instanceEnv: (i, ports): Record<string, string> => {
      if (i !== 0) return {};
      gate.target = `http://127.0.0.1:${ports.idp}/webhooks/didit`;
      return { VERIFIER_WEBHOOK_URL: gate.url };
    },
  });
  const amyCam = path.join(cam.dir, 'amy2.y4m');
  writeY4m(amyCam, [await selfieRgb('amy', 2)], 640, 480);
  [cluster, chromium, amy.selfie, raj.selfie] = await Promise.all([starting, launchWithCamera(amyCam), selfieJpeg('amy', 2), selfieJpeg('raj', 2)]);

  // amy is enrolled from another image of her face, as the operator CLI does (same store, same keys).
  const config = loadConfig({ ...cluster.env, DATA_DIR: cluster.dataDir });
  const store = await openStore(config);
  const face = lazyFaceEngine({ poolSize: 1 });
  try {
    const accounts = new Accounts(store);
    for (const [person, name] of [[amy, 'amy'], [raj, 'raj']] as const) {
      person.id = (await accounts.create({ email: person.email, name })).account.id;
      await enrolFromImages({ store, face, templateKeyring: parseTemplateKeys(cluster.env.VERIFIER_TEMPLATE_KEYS!) }, person.id, [facePng(name, 1)]);
      await accounts.markEnrolled(person.id);
    }
  } finally {
    await face.close();
    await store.close();
  }
}, 120_000);

afterAll(async () => {
  await chromium?.close();
  await cluster?.close();
  await gate?.close();
  await new Promise((r) => rpServer?.close(r));
  cam.remove();
});

describe('two instances behind haproxy, round-robin on every request', () => {
  it('an openid-client sign-in completes when every next request lands on the other instance', async () => {
    const { claims, served } = await signIn({ alternate: true });
    expect(claims.sub).toBe(amy.id);
    expect(claims.amr).toEqual(['face']);
    for (const side of ['idp', 'verifier'] as const) {
      const by = served.filter((s) => s.side === side).map((s) => s.by);
      // Served where pinned: i0, i1, i0… on the IdP side (authorize, login page, login POST,
      // callback, "checking" refreshes) and on the verifier side (capture page, upload).
      expect(by).toEqual(served.filter((s) => s.side === side).map((s) => s.pinned));
      expect(by.length).toBeGreaterThanOrEqual(2);
    }
  }, 60_000);

  it('openid-client sign-ins complete with haproxy balancing each request round-robin', async () => {
    for (let n = 0; n < 2; n++) {
      const { claims } = await signIn();
      expect(claims.sub).toBe(amy.id);
      expect(claims.amr).toEqual(['face']);
    }
  }, 90_000);

  it('a sign-in in Chromium (fake camera) completes across both instances', async () => {
    const context = await chromium.newContext({ locale: 'en-GB' });
    // The requests the page makes itself (not those reached through a redirect, which Playwright
    // does not route) alternate between the instances; the rest is balanced round-robin.
    let n = 0;
    await context.route(/^http:\/\/127\.0\.0\.1:\d+\//, (route) => route.continue({ headers: { ...route.request().headers(), 'x-pin': `i${n++ % 2}` } }));
    const served: string[] = [];
    context.on('response', (r) => {
      const by = r.headers()['x-served-by'];
      if (by) served.push(by);
    });
    const rp = await discover(cluster.issuer, CLIENT);
    const { url, verifier, state } = await authorizationRequest(rp, REDIRECT, { login_hint: 'amy@example.com' });
    const page = await context.newPage();
    await page.goto(url.href);
    await page.getByRole('button', { name: 'Continue with a selfie' }).click();
    await page.waitForURL((u) => u.href.startsWith(cluster.verifierUrl), { timeout: 20_000 });
    const take = page.getByRole('button', { name: 'Take selfie', exact: true });
    await expect.poll(() => take.isEnabled(), { timeout: 20_000 }).toBe(true);
    await page.waitForFunction(() => ((document.getElementById('video') as HTMLVideoElement | null)?.videoWidth ?? 0) > 0);
    await take.click();
    await page.waitForURL((u) => u.href.startsWith(REDIRECT), { timeout: 40_000 });
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
    expect(tokens.claims()!.amr).toEqual(['face']);
    expect(new Set(served)).toEqual(new Set(['i0', 'i1']));
    await context.close();
  }, 90_000);

  it('SIGTERM under load: the instance drains (/readyz 503), finishes its work and exits 0; no request fails', async () => {
    const [i0] = cluster.instances;
    const rp = await discover(cluster.issuer, CLIENT);
    const failures: string[] = [];
    let answered = 0;
    let signIns = 0;
    let running = true;
    const check = (what: string, ok: boolean, detail: string) => (ok ? answered++ : failures.push(`${what}: ${detail}`));
    // Light requests that still touch Redis (an authorization request opens an interaction).
    const light = async () => {
      while (running) {
        try {
          const d = await fetch(`${cluster.issuer}/.well-known/openid-configuration`);
          check('discovery', d.status === 200, String(d.status));
          await d.body?.cancel();
          const { url } = await authorizationRequest(rp, REDIRECT);
          const login = await new Browser().follow(url, cluster.issuer);
          check('login page', login.res.status === 200 && login.url.includes('/interaction/'), `${login.res.status} ${login.url}`);
          await login.res.body?.cancel();
        } catch (err) {
          failures.push(`network: ${(err as Error).message}`);
        }
      }
    };
    // Whole sign-ins, with a face comparison each, in flight while the instance stops.
    const heavy = async (person: Person) => {
      while (running) {
        try {
          const { claims } = await signIn({ person });
          check('sign-in', claims.sub === person.id, String(claims.sub));
          signIns++;
        } catch (err) {
          const cause = (err as { cause?: unknown }).cause;
          failures.push(`sign-in: ${(err as Error).message} ${cause instanceof Response ? `(${cause.status} from ${cause.headers.get('x-served-by')}: ${await cause.text()})` : ''}`);
        }
      }
    };
    const loops = [...Array.from({ length: 6 }, light), heavy(amy), heavy(raj)];
    await sleep(2000);
    const before = answered;
    const code = await i0!.stop('SIGTERM', 30_000);
    await sleep(2000);
    running = false;
    await Promise.race([Promise.all(loops), sleep(60_000).then(() => failures.push('load did not stop within 60 s'))]);

    expect(failures).toEqual([]);
    expect(answered).toBeGreaterThan(before);
    expect(signIns).toBeGreaterThan(0);
    expect(code).toBe(0);
    expect(i0!.logged('shutting down: /readyz answers 503 from now on')).toHaveLength(1);
    expect(i0!.logged('shut down')).toHaveLength(1);

    await i0!.start();
    await cluster.waitBalanced();
  }, 150_000);

  it('SIGKILL in the middle of a sign-in, holding its webhook: the sign-in completes through the other instance, which delivers the webhook once', async () => {
    const [i0, i1] = cluster.instances;
    const { claims, sessionId } = await signIn({
      // The upload goes to i0 (whose webhooks pass the gate), and the gate holds them from now on.
      uploadTo: 'i0',
      beforeUpload: async () => gate.hold(),
      afterUpload: async (servedBy) => {
        expect(servedBy).toBe('i0');
        // i0 stored the verdict and claimed the webhook job; its delivery is in flight, held.
        await Promise.race([gate.held, sleep(10_000).then(() => Promise.reject(new Error('i0 sent no webhook within 10 s')))]);
        expect(await i0!.stop('SIGKILL', 10_000)).toBeNull();
      },
    });
    expect(claims.sub).toBe(amy.id);
    expect(claims.amr).toEqual(['face']);

    // i0's claim lapses (2 s) and i1 delivers the owed event to its own receiver.
    const deliveredBy = () => i1!.logged('webhook delivered').filter((l) => l.session_id === sessionId && l.status === 'Approved');
    const delivered = await waitFor('the webhook from i1', () => (deliveredBy().length > 0 ? deliveredBy() : undefined), 20_000);
    expect(delivered).toHaveLength(1);
    // The IdP received it once (recorded, or, the sign-in being over already, acknowledged as finished).
    const received = cluster.instances
      .flatMap((i) => [...i.logged('verification status recorded'), ...i.logged('webhook for an unknown or finished verification session')])
      .filter((l) => l.sessionId === sessionId && l.status === 'Approved');
    expect(received).toHaveLength(1);
    expect(received[0]!.eventId).toBe(delivered[0]!.event_id);
    expect(i0!.logged('webhook delivered').filter((l) => l.session_id === sessionId && l.status === 'Approved')).toEqual([]);
    expect(cluster.instances.flatMap((i) => i.logged('webhook refused'))).toEqual([]);
  }, 90_000);
});
