// Full authorization-code sign-in without a browser, timed from the relying party's point of view:
// authorize → interaction (login_hint) → verification session → capture upload → signed webhook →
// callback → code → token. The user's own time (looking at the camera) is not counted: with
// screen light (the default PASSIVE workflow) the page asks for its light pattern and the burst is
// rendered for it (≈ 1 s of CPU in this process, not timed); at 8 concurrent the eight sign-ins are
// taken to the capture page and rendered one after the other, then upload and go on at once.
//
// Run: PATH=node_modules/.bin:$PATH node bench/login/run.ts [--redis] [--rounds N]
// Uses the default workflows (config/workflows.json), the embedded verifier and the real face engine.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import * as oidc from 'openid-client';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startStack } from '../../src/run.ts';
import { Accounts } from '../../src/idp/accounts.ts';
import { enrolFromImages, lazyFaceEngine, loadVerifierConfig } from '../../src/verifier/index.ts';
import { TEST_KEYS_ENCRYPTION_KEY, TEST_REDIS_URL, tempDir, uniquePrefix } from '../../test/helpers/env.ts';
import { Browser, continueWithSelfie, freePort } from '../../test/helpers/server.ts';
import type { ScreenLightChallenge } from '../../src/liveness/index.ts';
import { burstForm, liveBurst, screenLightAnswer, type BurstUpload, type LiveBurst } from '../bursts.ts';

// --face-only: sign-in without LIVENESS (FACE_MATCH + IP_ANALYSIS, one JPEG), to separate the
// flow's own cost from presentation-attack detection's.
const { values } = parseArgs({ options: { redis: { type: 'boolean', default: false }, rounds: { type: 'string', default: '5' }, 'face-only': { type: 'boolean', default: false } } });
const faceOnly = values['face-only'];
const rounds = Number(values.rounds);
const PEOPLE = ['amy', 'bernadette', 'howard', 'leonard', 'penny', 'raj', 'sheldon', 'stuart'];
const tmp = tempDir('bench-login');
const REDIRECT = 'http://127.0.0.1:1/cb';
const CLIENT = { client_id: 'bench', client_secret: 'bench-secret-0123456789-0123456789', redirect_uris: [REDIRECT], first_party: true, grant_types: ['authorization_code'] };


const [port, verifierPort] = [await freePort(), await freePort()];
writeFileSync(path.join(tmp.dir, 'clients.json'), JSON.stringify([CLIENT]));
const env: Record<string, string> = {
  ...(process.env as Record<string, string>),
  PORT: String(port),
  HOST: '127.0.0.1',
  ISSUER: `http://127.0.0.1:${port}`,
  DATA_DIR: tmp.dir,
  CLIENTS_FILE: path.join(tmp.dir, 'clients.json'),
  VERIFIER_PORT: String(verifierPort),
  VERIFIER_HOST: '127.0.0.1',
  VERIFIER_PUBLIC_URL: `http://127.0.0.1:${verifierPort}`,
  DEMO_RP_PORT: '0',
  METRICS_PORT: '0',
  // Every sign-in here comes from one address: the per-IP lookup limit would stop the bench.
  CONFIG_FILE: path.join(tmp.dir, 'config.json'),
  LOG_LEVEL: 'warn',
  ...(values.redis ? { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: uniquePrefix('bench-login'), KEYS_ENCRYPTION_KEY: TEST_KEYS_ENCRYPTION_KEY } : {}),
  ...(faceOnly ? { VERIFIER_WORKFLOWS_FILE: path.join(tmp.dir, 'workflows.json') } : {}),
};
const defaults = JSON.parse(readFileSync(new URL('../../config/default.json', import.meta.url), 'utf8'));
// Every bench sign-in is a new device, which the risk policy would send to ACTIVE_3D, and would be
// offered a passkey before returning: the bench measures the passive flow, straight back to the app.
writeFileSync(path.join(tmp.dir, 'config.json'), JSON.stringify({ ...defaults, signin: { ...defaults.signin, lookupsPerIpPerHour: 1_000_000, verificationsPerIpPerHour: 1_000_000 }, risk: { ...defaults.risk, newDevice: 'PASSIVE' }, passkeys: { offerAfterFaceSignin: false } }));
writeFileSync(path.join(tmp.dir, 'workflows.json'), JSON.stringify({ workflows: [
  { workflow_id: 'bench-face-only', workflow_type: 'biometric_authentication', features: ['FACE_MATCH', 'IP_ANALYSIS'], face_match: { review_threshold: 72, decline_threshold: 62 } },
  { workflow_id: 'bench-kyc', workflow_type: 'kyc', features: ['IP_ANALYSIS'] },
] }));
const config = loadConfig(env);
const stack = await startStack(config, env, createLogger('warn', new Writable({ write: (_c, _e, cb) => cb() })));
const issuer = config.issuer;

// Enrol the eight people (enrolFromImages, as the operator CLI does).
const accounts = new Accounts(stack.idp.store);
const face = lazyFaceEngine({ poolSize: 1 });
const keyring = loadVerifierConfig(env).templateKeyring;
// The default sign-in workflow has PASSIVE liveness: each person uploads a synthetic bona fide
// still + burst (bench/bursts.ts), and is enrolled from that still (this measures latency).
const selfies = new Map<string, LiveBurst>();
for (const name of PEOPLE) {
  selfies.set(name, await liveBurst(face, name, { screenLight: !faceOnly }));
  const { account } = await accounts.create({ email: `${name}@example.com`, name });
  await enrolFromImages({ store: stack.idp.store, face, templateKeyring: keyring }, account.id, [selfies.get(name)!.still]);
  await accounts.markEnrolled(account.id);
}
await face.close();
const rp = await oidc.discovery(new URL(issuer), CLIENT.client_id, CLIENT.client_secret, undefined, { execute: [oidc.allowInsecureRequests] });

/** Time spent rendering bursts (never overlaps timed work): left out of sign-ins/s. */
let renderingMs = 0;

type AtCamera = { name: string; ms: number; browser: Browser; verifier: string; captureUrl: string; cfg: any; selfie: BurstUpload };

/** authorize → the capture page (→ its light pattern): timed; the burst for the pattern rendered, not timed. */
async function toCamera(name: string): Promise<AtCamera> {
  const started = performance.now();
  const browser = new Browser();
  const verifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(rp, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's', login_hint: `${name}@example.com` });
  // A login_hint fills the email in; one press on "Continue with a selfie" opens the capture page.
  const captureUrl = (await continueWithSelfie(browser, issuer, await browser.follow(url, issuer))).headers.get('location')!;
  // The capture page, as the browser loads it, then (screen light) the challenge its script asks for.
  const html = await (await fetch(captureUrl)).text();
  const cfg = JSON.parse(/<script type="application\/json" id="capture-config">([\s\S]*?)<\/script>/.exec(html)![1]!);
  let selfie: BurstUpload = selfies.get(name)!;
  if (cfg.screenLight && !faceOnly) {
    const res = await fetch(new URL(cfg.challengeUrl, captureUrl), { method: 'POST', headers: { 'x-upload-token': cfg.uploadToken } });
    const { challenge } = (await res.json()) as { challenge: ScreenLightChallenge };
    const ms = performance.now() - started;
    const r0 = performance.now();
    selfie = await screenLightAnswer(name, selfies.get(name)!.seed, challenge);
    renderingMs += performance.now() - r0;
    return { name, ms, browser, verifier, captureUrl, cfg, selfie };
  }
  return { name, ms: performance.now() - started, browser, verifier, captureUrl, cfg, selfie };
}

/** The upload its script makes → the webhook → callback → code → token: timed. */
async function fromCamera(at: AtCamera): Promise<number> {
  const started = performance.now();
  const { name, browser, verifier, captureUrl, cfg, selfie } = at;
  const up = await fetch(new URL(cfg.uploadUrl, captureUrl), {
    method: 'POST',
    headers: { 'x-upload-token': cfg.uploadToken, ...(faceOnly ? { 'content-type': 'image/jpeg' } : {}) },
    body: faceOnly ? new Uint8Array(selfie.still) : burstForm(selfie),
  });
  const verdict = await up.json();
  if (verdict.status !== 'Approved') throw new Error(`${name}: verifier said ${verdict.status}`);
  let hop = await browser.follow(verdict.redirect ?? verdict.callback, issuer);
  while (!hop.url.startsWith(REDIRECT)) {
    if (hop.res.status !== 200) throw new Error(`${name}: ${hop.res.status} at ${hop.url}`);
    await new Promise((r) => setTimeout(r, 1000)); // the "checking" page's refresh
    hop = await browser.follow(hop.url, issuer);
  }
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(hop.url), { pkceCodeVerifier: verifier, expectedState: 's' });
  if (JSON.stringify(tokens.claims()!.amr) !== '["face"]') throw new Error('no amr');
  return at.ms + performance.now() - started;
}

async function signIn(name: string): Promise<number> {
  return fromCamera(await toCamera(name));
}

/** Sign-ins at once: taken to the camera one after the other, then on from there together. */
async function signInTogether(names: string[]): Promise<number[]> {
  const at: AtCamera[] = [];
  for (const n of names) at.push(await toCamera(n));
  return Promise.all(at.map(fromCamera));
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
await signIn('amy'); // warm-up
for (const concurrency of [1, 8]) {
  const times: number[] = [];
  const t0 = performance.now();
  const rendering0 = renderingMs;
  for (let r = 0; r < rounds; r++) {
    times.push(...(await signInTogether(PEOPLE.slice(0, concurrency))));
    if (concurrency === 1) for (const n of PEOPLE.slice(1)) times.push(await signIn(n));
  }
  const secs = (performance.now() - t0 - (renderingMs - rendering0)) / 1000;
  console.log(`${concurrency} concurrent: ${times.length} sign-ins, p50 ${pct(times, 50).toFixed(0)} ms, p99 ${pct(times, 99).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms, ${(times.length / secs).toFixed(1)} sign-ins/s (store: ${values.redis ? 'redis' : 'embedded'}; ${faceOnly ? 'face-only workflow' : 'default workflow with PASSIVE liveness, screen light'})`);
}
await stack.close();
tmp.remove();
