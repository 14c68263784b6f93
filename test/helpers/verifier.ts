// A real verifier for a test file: real store (Redis by default, unique prefix), real face engine
// (shared per file, started only when a test sends an image), fast queue polling, test workflows.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { createLogger } from '../../src/logger.ts';
import { loadVerifierConfig } from '../../src/verifier/config.ts';
import type { VerifierConfig } from '../../src/verifier/config.ts';
import type { FacePort } from '../../src/verifier/face-port.ts';
import { startVerifier } from '../../src/verifier/server.ts';
import { K } from '../../src/verifier/keys.ts';
import type { RunningVerifier } from '../../src/verifier/server.ts';
import { RedisStore } from '../../src/store/redis.ts';
import type { Store } from '../../src/store/index.ts';
import { SHARED_DIR, TEST_REDIS_URL, tempDir, uniquePrefix } from './env.ts';
import type { ScreenLightChallenge } from '../../src/liveness/index.ts';
import { seededRng } from '../../src/liveness/rng.ts';
import { randomScreenPattern } from '../../src/liveness/signals/screen-light.ts';
import { generatePassiveSample, type SampleKind } from '../synthetic/generate.ts';
import { loadFaceSources } from '../synthetic/head.ts';
import { freePort } from './server.ts';

export const API_KEY = 'test-api-key-0123456789abcdef';
export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';

const thresholds = (review: number, decline: number) => ({ review_threshold: review, decline_threshold: decline });

/**
 * Workflows for tests. Face-match tests use `face-only`, with liveness off explicitly. The PASSIVE
 * ones use screen light (the default: the upload answers a challenge), except `reauth-plain`.
 * Liveness workflows here ignore VIRTUAL_CAMERA (`virtual_camera: 'ignore'`): the browser tests
 * drive the page with Chromium's fake camera, which is what that setting is for. The `vcam-*`
 * and `observe` ones test the injection check's actions and observe mode.
 */
export const TEST_WORKFLOWS = [
  { workflow_id: 'face-only', workflow_type: 'biometric_authentication', features: ['FACE_MATCH'], face_match: thresholds(56, 50) },
  {
    workflow_id: 'reauth',
    workflow_type: 'biometric_authentication',
    features: ['LIVENESS', 'FACE_MATCH', 'IP_ANALYSIS'],
    liveness: { method: 'PASSIVE', ...thresholds(40, 30), virtual_camera: 'ignore' },
    face_match: thresholds(56, 50),
  },
  {
    workflow_id: 'reauth-plain',
    workflow_type: 'biometric_authentication',
    features: ['LIVENESS', 'FACE_MATCH', 'IP_ANALYSIS'],
    liveness: { method: 'PASSIVE', screen_light: false, ...thresholds(50, 30), virtual_camera: 'ignore' },
    face_match: thresholds(56, 50),
  },
  { workflow_id: 'kyc', workflow_type: 'kyc', features: ['LIVENESS', 'IP_ANALYSIS'], liveness: { method: 'PASSIVE', ...thresholds(40, 30), virtual_camera: 'ignore' } },
  { workflow_id: 'kyc-review', workflow_type: 'kyc', features: ['LIVENESS'], liveness: { method: 'PASSIVE', ...thresholds(100, 0), virtual_camera: 'ignore' } },
  { workflow_id: 'face-retain', workflow_type: 'biometric_authentication', features: ['FACE_MATCH'], face_match: thresholds(56, 50), retain_media: true },
  { workflow_id: 'ip-only', workflow_type: 'biometric_authentication', features: ['IP_ANALYSIS'], max_capture_attempts: 2 },
  // Challenge methods, liveness only: what they accept or refuse, not the face match.
  { workflow_id: 'flashing', workflow_type: 'biometric_authentication', features: ['LIVENESS'], liveness: { method: 'FLASHING', ...thresholds(50, 30), virtual_camera: 'ignore' } },
  { workflow_id: 'active-3d', workflow_type: 'biometric_authentication', features: ['LIVENESS'], liveness: { method: 'ACTIVE_3D', ...thresholds(50, 30), virtual_camera: 'ignore' } },
  // PASSIVE with screen light (the default, here explicitly), liveness only.
  { workflow_id: 'screen-light', workflow_type: 'biometric_authentication', features: ['LIVENESS'], liveness: { method: 'PASSIVE', screen_light: true, ...thresholds(40, 30), virtual_camera: 'ignore' } },
  // more capture attempts than the chance bound is split over (CHALLENGES_PER_SESSION, 3)
  { workflow_id: 'screen-light-5', workflow_type: 'biometric_authentication', features: ['LIVENESS'], liveness: { method: 'PASSIVE', ...thresholds(40, 30), virtual_camera: 'ignore' }, max_capture_attempts: 5 },
  // VIRTUAL_CAMERA's actions (review is the default) and observe mode, on the plain PASSIVE burst.
  ...(['review', 'decline'] as const).map((action) => ({
    workflow_id: `vcam-${action}`,
    workflow_type: 'biometric_authentication',
    features: ['LIVENESS', 'FACE_MATCH'],
    liveness: { method: 'PASSIVE', screen_light: false, ...thresholds(50, 30), ...(action === 'review' ? {} : { virtual_camera: action }) },
    face_match: thresholds(56, 50),
  })),
  {
    workflow_id: 'observe',
    workflow_type: 'biometric_authentication',
    features: ['LIVENESS', 'FACE_MATCH'],
    liveness: { method: 'PASSIVE', screen_light: false, mode: 'observe', ...thresholds(50, 30) },
    face_match: thresholds(56, 50),
  },
];

export type TestVerifier = RunningVerifier & { config: VerifierConfig; store: Store; logs: string[]; dataDir: string; stop: () => Promise<void> };

export type TestVerifierOptions = { env?: Record<string, string>; store?: Store; face?: FacePort; dataDir?: string; port?: number };

/** Opens a Redis store with a fresh prefix (the caller closes it). */
export function testRedisStore(label: string): Promise<RedisStore> {
  return RedisStore.connect({ url: TEST_REDIS_URL, keyPrefix: uniquePrefix(label) });
}

export async function startTestVerifier(options: TestVerifierOptions = {}): Promise<TestVerifier> {
  const data = options.dataDir ? { dir: options.dataDir, remove: () => {} } : tempDir('verifier');
  const workflowsFile = path.join(data.dir, 'workflows.json');
  writeFileSync(workflowsFile, JSON.stringify({ workflows: TEST_WORKFLOWS }));
  const port = options.port ?? (await freePort());
  const config = loadVerifierConfig({
    VERIFIER_PORT: String(port),
    VERIFIER_HOST: '127.0.0.1',
    VERIFIER_PUBLIC_URL: `http://127.0.0.1:${port}`,
    VERIFIER_API_KEYS: API_KEY,
    VERIFIER_WEBHOOK_SECRET: WEBHOOK_SECRET,
    VERIFIER_WORKFLOWS_FILE: workflowsFile,
    VERIFIER_QUEUE_POLL_INTERVAL: '50ms',
    VERIFIER_QUEUE_CLAIM_TIMEOUT: '2s',
    VERIFIER_WEBHOOK_RETRY_DELAYS: '100ms,200ms,300ms',
    VERIFIER_WEBHOOK_TIMEOUT: '1s',
    DATA_DIR: data.dir,
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const ownStore = !options.store;
  const store = options.store ?? (await testRedisStore('verifier'));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const running = await startVerifier(config, createLogger('info', sink), { store, ...(options.face ? { face: options.face } : {}) });
  const origins = [...new Set([new URL(running.url).origin, ...(config.publicUrl ? [new URL(config.publicUrl).origin] : [])])];
  for (const o of origins) storesByOrigin.set(o, store);
  return {
    ...running,
    config,
    store,
    logs,
    dataDir: data.dir,
    stop: async () => {
      for (const o of origins) storesByOrigin.delete(o);
      await running.close();
      if (ownStore) await store.close();
      if (!options.dataDir) data.remove();
    },
  };
}

/** JSON API call with the test key (or `key: null` for none). */
export async function api(v: { url: string }, method: string, pathname: string, body?: unknown, opts: { key?: string | null; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? API_KEY : opts.key;
  if (key !== null) headers['x-api-key'] = key;
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const res = await fetch(v.url + pathname, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

// ---- faces ----

export function facePng(name: string, n: number): Buffer {
  return readFileSync(path.join(SHARED_DIR, 'faces', name, `${name}${n}.png`));
}

/** A selfie-like frame: the shared crop scaled up and centred on a plain 640×480 background. */
export async function selfieRgb(name: string, n: number, size = { width: 640, height: 480 }, faceWidth = 280): Promise<Buffer> {
  const face = await sharp(facePng(name, n)).resize(faceWidth, faceWidth).removeAlpha().toColourspace('srgb').toBuffer();
  return sharp({ create: { width: size.width, height: size.height, channels: 3, background: { r: 118, g: 122, b: 128 } } })
    .composite([{ input: face, left: Math.round((size.width - faceWidth) / 2), top: Math.round((size.height - faceWidth) / 2) }])
    .removeAlpha()
    .raw()
    .toBuffer();
}

export async function selfieJpeg(name: string, n: number): Promise<Buffer> {
  const rgb = await selfieRgb(name, n);
  return sharp(rgb, { raw: { width: 640, height: 480, channels: 3 } }).jpeg({ quality: 88 }).toBuffer();
}

export async function portraitB64(name: string, n: number): Promise<string> {
  return (await sharp(facePng(name, n)).jpeg({ quality: 92 }).toBuffer()).toString('base64');
}

export async function blankJpeg(): Promise<Buffer> {
  return sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 110, b: 130 } } }).jpeg().toBuffer();
}

// ---- the hosted page without a browser ----

export type OpenedPage = { status: number; html: string; config: any };

export async function openPage(sessionUrl: string, headers: Record<string, string> = {}): Promise<OpenedPage> {
  const res = await fetch(sessionUrl, { headers });
  const html = await res.text();
  const m = /<script type="application\/json" id="capture-config">([\s\S]*?)<\/script>/.exec(html);
  return { status: res.status, html, config: m ? JSON.parse(m[1]!) : null };
}

/** Open the page (as a browser would) and upload one capture with its grant. */
export async function captureOnce(sessionUrl: string, jpeg: Buffer, page?: OpenedPage, uploadToken?: string): Promise<{ status: number; body: any }> {
  const opened = page ?? (await openPage(sessionUrl));
  const origin = new URL(sessionUrl).origin;
  const res = await fetch(origin + opened.config.uploadUrl, {
    method: 'POST',
    headers: { 'content-type': 'image/jpeg', 'x-upload-token': uploadToken ?? opened.config.uploadToken, 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1' },
    body: new Uint8Array(jpeg),
  });
  return { status: res.status, body: await res.json() };
}

/**
 * What the capture page uploads for a PASSIVE workflow (multipart/form-data, docs/verifier.md);
 * challengeId: the screen-light challenge it answers (PASSIVE with screen light).
 */
export type BurstUpload = { still: Buffer; frames: Buffer[]; times: number[]; captureIndex: number; challengeId?: string; camera?: string | null };

/** still + frames + times, and the method's own fields (capture_index, or challenge_id). */
/** What the page reports of a built-in webcam (the `camera` field); null: no report, as a script would send. */
export const WEBCAM_REPORT = JSON.stringify({ label: 'Integrated Camera (04f2:b6d9)', readyState: 'live', muted: false, settings: { width: 640, height: 480, frameRate: 30 } });

function framesForm(u: { still: Buffer; frames: Buffer[]; times: number[]; camera?: string | null }, fields: Record<string, string>): FormData {
  const form = new FormData();
  const camera = u.camera === undefined ? WEBCAM_REPORT : u.camera;
  if (camera !== null) form.append('camera', camera);
  form.append('still', new Blob([new Uint8Array(u.still)], { type: 'image/jpeg' }), 'still.jpg');
  u.frames.forEach((f, i) => form.append('frame', new Blob([new Uint8Array(f)], { type: 'image/jpeg' }), `frame${i}.jpg`));
  form.append('times', JSON.stringify(u.times));
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

export function burstForm(u: BurstUpload): FormData {
  return framesForm(u, { capture_index: String(u.captureIndex), ...(u.challengeId !== undefined ? { challenge_id: u.challengeId } : {}) });
}

const samples = new Map<string, Promise<BurstUpload>>();

/**
 * A synthetic PASSIVE session (test/synthetic) of one identity, as the page would upload it;
 * with `pattern`, recorded under that screen-light pattern (the challenge's), without a challenge id.
 */
export function syntheticBurst(kind: SampleKind, seed: number, identity: string, pattern?: readonly number[]): Promise<BurstUpload> {
  const key = `${kind}/${seed}/${identity}/${pattern ? pattern.join('') : 'no-light'}`;
  let p = samples.get(key);
  if (!p) {
    p = (async () => {
      const faces = (await loadFaceSources()).filter((f) => f.identity === identity);
      const s = await generatePassiveSample(kind, seed, faces, pattern ? { screenLight: { pattern } } : {});
      return { still: s.stillJpeg!, frames: s.burstJpeg!, times: s.burst.map((f) => Math.round(f.t - s.burst[0]!.t)), captureIndex: s.captureIndex };
    })();
    samples.set(key, p);
  }
  return p;
}

/** Open the page (as a browser would) and upload a still + burst with its grant. */
export async function captureBurst(sessionUrl: string, upload: BurstUpload | FormData, page?: OpenedPage, uploadToken?: string): Promise<{ status: number; body: any }> {
  const opened = page ?? (await openPage(sessionUrl));
  const origin = new URL(sessionUrl).origin;
  const res = await fetch(origin + opened.config.uploadUrl, {
    method: 'POST',
    headers: { 'x-upload-token': uploadToken ?? opened.config.uploadToken, 'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1' },
    body: upload instanceof FormData ? upload : burstForm(upload),
  });
  return { status: res.status, body: await res.json() };
}

/** The page's request for its FLASHING / ACTIVE_3D / screen-light challenge (with this page load's grant). */
export async function requestChallenge(sessionUrl: string, page: OpenedPage, uploadToken?: string): Promise<{ status: number; body: any; headers: Headers }> {
  const origin = new URL(sessionUrl).origin;
  const res = await fetch(origin + page.config.challengeUrl, { method: 'POST', headers: { 'x-upload-token': uploadToken ?? page.config.uploadToken } });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

export type ScreenLightCapture = { status: number; body: any; challenge: ScreenLightChallenge; upload: BurstUpload; page: OpenedPage };

/**
 * A PASSIVE screen-light capture as the page makes it: open the page (or use `opened`), ask for the
 * challenge, record the synthetic session of `kind` under its pattern and upload it naming it.
 */
/** The screen-light pattern captureScreenLight pins (one fixed issuable pattern). */
export const FIXED_SCREEN_PATTERN: readonly number[] = randomScreenPattern(seededRng(2024));

/** The verifiers started here, by origin: captureScreenLight pins the pattern in its store. */
const storesByOrigin = new Map<string, Store>();

export async function captureScreenLight(sessionUrl: string, kind: SampleKind, seed: number, identity: string, opened?: OpenedPage): Promise<ScreenLightCapture> {
  const page = opened ?? (await openPage(sessionUrl));
  const c = await requestChallenge(sessionUrl, page);
  if (c.status !== 200) throw new Error(`challenge request answered ${c.status}: ${JSON.stringify(c.body)}`);
  let challenge = c.body.challenge as ScreenLightChallenge;
  if (challenge.method !== 'PASSIVE') throw new Error(`not a screen-light challenge: ${challenge.method}`);
  // The server draws the pattern at random, and a live face's rank among all patterns (so the
  // outcome) varies with it: pin the stored challenge to one fixed pattern, as a page would have
  // shown it, so that a test's outcome does not depend on the draw.
  const store = storesByOrigin.get(new URL(sessionUrl).origin);
  if (store) {
    const key = K.challenge(page.config.uploadToken);
    const stored = await store.get<ScreenLightChallenge>(key);
    if (stored) {
      await store.set(key, { ...stored, pattern: [...FIXED_SCREEN_PATTERN] } as never, { ttl: 300 });
      challenge = { ...challenge, pattern: [...FIXED_SCREEN_PATTERN] };
    }
  }
  const asked = Date.now();
  const upload = { ...(await syntheticBurst(kind, seed, identity, challenge.pattern)), challengeId: challenge.id };
  // a page cannot answer before its ~1 s burst is over: the server refuses sooner answers
  await burstTime(asked, challenge);
  return { ...(await captureBurst(sessionUrl, upload, page)), challenge, upload, page };
}

/** Wait until a page could have recorded the screen-light burst since `askedAt` (ms epoch). */
export async function burstTime(askedAt: number, ch: ScreenLightChallenge): Promise<void> {
  const wait = askedAt + ch.frames * ch.intervalMs - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/** What the capture page uploads for a challenge: the still, the recorded frames, their times from the start, the challenge id. */
export type RecordingUpload = { still: Buffer; frames: Buffer[]; times: number[]; challengeId: string };

export function recordingForm(u: RecordingUpload): FormData {
  return framesForm(u, { challenge_id: u.challengeId });
}

// ---- a webhook receiver ----

export type Delivery = { headers: IncomingHttpHeaders; body: string; answered: number; at: number };

export type Receiver = { url: string; deliveries: Delivery[]; respond: (d: Delivery, index: number) => number | Promise<number>; close: () => Promise<void> };

export async function startReceiver(respond: Receiver['respond'] = () => 200): Promise<Receiver> {
  const receiver: Receiver = { url: '', deliveries: [], respond, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const d: Delivery = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered: 0, at: Date.now() };
      const index = receiver.deliveries.length;
      receiver.deliveries.push(d);
      d.answered = await receiver.respond(d, index);
      if (d.answered === 0) return; // never answer: a timeout
      res.statusCode = d.answered;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  receiver.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/webhooks/didit`;
  receiver.close = () => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  };
  return receiver;
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
