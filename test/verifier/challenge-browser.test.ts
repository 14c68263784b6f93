// Liveness challenges through the hosted page in Debian's Chromium. Two kinds of camera:
//  - Chromium's fake camera playing a y4m file: a still photo (one frame) and a flat-plane motion
//    video (a photo turned and tilted as a plane). Both must be refused by FLASHING and ACTIVE_3D
//    (and the still by PASSIVE with screen light), and a recorded upload replayed later must be refused.
//  - A canvas camera injected into the page (what a virtual camera does), playing an answer that
//    Node renders for the challenge the server issued, in time with the page: a genuine answer is
//    accepted end to end; the right turns in the wrong order, or too late, are refused. For PASSIVE
//    with screen light it plays burst frame i when the page takes frame i (it follows the page's
//    draws of the camera), and the page's background is sampled to see the light pattern shown.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeJpeg } from '../../src/liveness/image.ts';
import type { Active3dChallenge, FlashingChallenge, Frame, ScreenLightChallenge } from '../../src/liveness/index.ts';
import { seededRng } from '../../src/liveness/rng.ts';
import { randomScreenPattern } from '../../src/liveness/signals/screen-light.ts';
import { generatePassiveSample, type SampleKind } from '../synthetic/generate.ts';
import { generateActiveFrames, type ActiveKind } from '../synthetic/active.ts';
import { generateFlashingSample, type FlashKind } from '../synthetic/flashing.ts';
import { loadFaceSources, type FaceSource } from '../synthetic/head.ts';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { K } from '../../src/verifier/keys.ts';
import { launchWithCamera } from '../helpers/chromium.ts';
import { tempDir } from '../helpers/env.ts';
import { api, portraitB64, selfieRgb, startTestVerifier } from '../helpers/verifier.ts';
import type { TestVerifier } from '../helpers/verifier.ts';
import { writeY4m } from '../helpers/y4m.ts';

const face = lazyFaceEngine({ poolSize: 2 });
const tmp = tempDir('challenge-browser');
let v: TestVerifier;
let faces: FaceSource[];
let stillCamera: Browser;
let flatCamera: Browser;
let callbackServer: Server;
let callbackUrl: string;
const cspViolations: string[] = [];

const rgbOf = (f: Frame) => Buffer.from(f.image.data.buffer, f.image.data.byteOffset, f.image.data.byteLength);

beforeAll(async () => {
  faces = await loadFaceSources();
  const still = path.join(tmp.dir, 'still.y4m');
  writeY4m(still, [await selfieRgb('amy', 1)], 640, 480);
  // a printed photo turned and tilted as a plane (following some other head-turn challenge), 5 fps
  const flat = await generateActiveFrames('flat_photo', 7, faces);
  const flatY4m = path.join(tmp.dir, 'flat.y4m');
  writeY4m(flatY4m, flat.frames.map(rgbOf), flat.frames[0]!.image.width, flat.frames[0]!.image.height, 5);
  [stillCamera, flatCamera] = await Promise.all([launchWithCamera(still), launchWithCamera(flatY4m), face.warm()]);
  v = await startTestVerifier({ face });
  callbackServer = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>callback</title><p>back at the relying party</p>');
  });
  await new Promise<void>((r) => callbackServer.listen(0, '127.0.0.1', () => r()));
  callbackUrl = `http://127.0.0.1:${(callbackServer.address() as { port: number }).port}/reauth/callback`;
}, 180_000);

afterAll(async () => {
  await Promise.all([stillCamera?.close(), flatCamera?.close()]);
  await v?.stop();
  await new Promise((r) => callbackServer?.close(r));
  await face.close();
  tmp.remove();
});

type Answer = (challenge: FlashingChallenge | Active3dChallenge | ScreenLightChallenge) => Promise<Frame[]>;

/**
 * Page-side hooks both canvas cameras share: the page gets the canvas as its only camera, and when
 * its challenge request returns, Node renders the answer (window.__renderAnswer), decoded here
 * into answer ({ t, img }[]), and onAnswer (page code) starts playing it before the page
 * sees the response. Page code, as a string: it runs in the browser, not in Node.
 */
function cameraHooks(onAnswer: string): string {
  return `
  navigator.mediaDevices.enumerateDevices = () => Promise.resolve([{ kind: 'videoinput', deviceId: 'canvas', label: 'canvas', groupId: '' }]);
  navigator.mediaDevices.getUserMedia = () => Promise.resolve(canvas.captureStream(30));
  const realFetch = window.fetch.bind(window);
  window.fetch = async (url, init) => {
    const res = await realFetch(url, init);
    if (String(url).endsWith('/challenge') && res.ok) {
      const { challenge } = await res.clone().json();
      const rendered = await window.__renderAnswer(challenge);
      const answer = await Promise.all(rendered.map(async (r) => {
        const bytes = Uint8Array.from(atob(r.jpeg), (c) => c.charCodeAt(0));
        return { t: r.t, img: await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' })) };
      }));
      ${onAnswer}
    }
    return res;
  };`;
}

/**
 * A canvas camera (640×480): grey until the page's challenge request returns; then Node renders
 * the answer for that challenge, and the canvas plays it from the moment the page gets the
 * challenge (the fetch resolves once the frames are ready, so the page starts in time with them),
 * then shows the person as in the answer's lead-in (the screen's colours no longer on the face).
 */
/** Page code both canvas cameras start with: the 640×480 canvas they draw on, and its grey before an answer. */
const CANVAS = `
  const W = 640, H = 480;
  const canvas = document.createElement('canvas');
  canvas.width = W; canvas.height = H;
  const g = canvas.getContext('2d');
  const grey = () => { g.fillStyle = '#777'; g.fillRect(0, 0, W, H); };`;

const CANVAS_CAMERA = `(() => {${CANVAS}
  let frames = null, start = 0;
  function draw() {
    if (frames && start) {
      const t = performance.now() - start;
      // after the answer: the face as in the lead-in (no colour on it any more)
      let f = frames[0];
      if (t <= frames[frames.length - 1].t + 100) for (const x of frames) { if (x.t <= t) f = x; else break; }
      g.drawImage(f.img, 0, 0, W, H);
    } else grey();
    requestAnimationFrame(draw);
  }
  draw();
${cameraHooks('frames = answer; start = performance.now();')}
})();`;

/**
 * A canvas camera for PASSIVE with screen light (640×480): grey until the page's challenge request
 * returns; then Node renders the burst for that pattern, and the canvas shows burst frame 0, and
 * frame i + 1 from the moment the page takes frame i (draws the video into its 320 px frame canvas),
 * so that frame i is the one in the camera when the page takes it whatever the stream's latency
 * (under one frame interval). The page takes the still with frame 6: the answer's frame 6 is its still.
 */
const BURST_CAMERA = `(() => {${CANVAS}
  let frames = null, index = 0;
  function draw() {
    if (frames) g.drawImage(frames[Math.min(index, frames.length - 1)], 0, 0, W, H);
    else grey();
    requestAnimationFrame(draw);
  }
  draw();
  const realDraw = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (src) {
    const r = realDraw.apply(this, arguments);
    if (frames && src instanceof HTMLVideoElement && this.canvas.width === 320) index++;
    return r;
  };
${cameraHooks(`frames = answer.map((f) => f.img);
      index = 0;
      // two animation frames: the first burst frame is on the canvas before the page goes on
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));`)}
})();`;

/** Reports every change of the page body's computed background colour (style or class changes, and each animation frame). */
const BACKGROUND_SAMPLER = `(() => {
  let last = '';
  function sample() {
    if (!document.body) return;
    const c = getComputedStyle(document.body).backgroundColor;
    if (c !== last) { last = c; window.__bgSample(c); }
  }
  function loop() { sample(); requestAnimationFrame(loop); }
  document.addEventListener('DOMContentLoaded', () => {
    new MutationObserver(sample).observe(document.body, { attributes: true, attributeFilter: ['style', 'class'] });
    loop();
  });
})();`;

/**
 * Keeps a copy of what the page uploads (the multipart body as the page built it), so a test can
 * replay it: Chromium does not hand file parts of a request body to the test's request events.
 */
const UPLOAD_RECORDER = `(() => {
  const realFetch = window.fetch;
  window.fetch = async function (url, init) {
    if (String(url).endsWith('/capture') && init && init.body instanceof FormData) {
      const copy = new Response(init.body);
      const bytes = new Uint8Array(await copy.arrayBuffer());
      let bin = '';
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      await window.__recordUpload(btoa(bin), copy.headers.get('content-type'));
    }
    return realFetch.apply(this, arguments);
  };
})();`;

let lastUpload: { body: Buffer; contentType: string } | undefined;
/** The page's background colours in order, and the one shown when the page uploaded. */
let backgrounds: string[] = [];
let backgroundAtUpload: string | undefined;

/** `answer`: a canvas camera plays it (the burst camera for PASSIVE, else the timed one). */
async function newPage(browser: Browser, answer?: Answer, burst = false): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-GB' });
  backgrounds = [];
  backgroundAtUpload = undefined;
  await context.exposeFunction('__bgSample', (c: string) => void backgrounds.push(c));
  await context.exposeFunction('__recordUpload', (b64: string, contentType: string) => {
    lastUpload = { body: Buffer.from(b64, 'base64'), contentType };
    backgroundAtUpload = backgrounds.at(-1);
  });
  await context.addInitScript(UPLOAD_RECORDER);
  await context.addInitScript(BACKGROUND_SAMPLER);
  if (answer) {
    await context.exposeFunction('__renderAnswer', async (challenge: FlashingChallenge | Active3dChallenge | ScreenLightChallenge) =>
      Promise.all((await answer(challenge)).map(async (f) => ({ t: f.t, jpeg: (await encodeJpeg(f.image, 92)).toString('base64') }))));
    await context.addInitScript(burst ? BURST_CAMERA : CANVAS_CAMERA);
  }
  const page = await context.newPage();
  if (process.env.DEBUG_PAGE) page.on('console', (msg) => console.log('[page]', msg.text()));
  if (process.env.DEBUG_PAGE) page.on('response', (r) => console.log('[resp]', r.status(), r.url()));
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
  });
  return page;
}

type Upload = { url: string; token: string; contentType: string; body: Buffer };
type Outcome = { status: string; sessionId: string; decision: any; risks: string[]; upload: Upload; challenges: any[]; backgrounds: string[]; backgroundAtUpload: string | undefined };

/** One sign-in through the page: press "Take selfie", follow the challenge, land on the callback. */
/**
 * With `pin`: the screen-light pattern the page is sent and the verifier judges, in place of the one
 * the server drew (the stored challenge is overwritten as the HTTP tests do), so that an outcome
 * that depends on how well a live face follows its pattern does not depend on the random draw.
 */
async function signIn(browser: Browser, workflowId: 'flashing' | 'active-3d' | 'reauth' | 'screen-light', answer?: Answer, pin?: readonly number[]): Promise<Outcome> {
  const extra = workflowId === 'reauth' ? { portrait_image: await portraitB64('amy', 2) } : {};
  const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: workflowId, vendor_data: 'browser', callback: callbackUrl, ...extra });
  const page = await newPage(browser, answer, workflowId === 'reauth' || workflowId === 'screen-light');
  if (pin) {
    await page.route('**/challenge', async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      const grant = route.request().headers()['x-upload-token']!;
      const stored = await v.store.get<ScreenLightChallenge>(K.challenge(grant));
      if (stored) await v.store.set(K.challenge(grant), { ...stored, pattern: [...pin] } as never, { ttl: 300 });
      if (body.challenge) body.challenge.pattern = [...pin];
      await route.fulfill({ response: res, json: body });
    });
  }
  let upload: Upload | undefined;
  lastUpload = undefined;
  const challenges: any[] = [];
  page.on('request', (req) => {
    if (req.method() === 'POST' && req.url().endsWith('/capture') && lastUpload) upload = { url: req.url(), token: req.headers()['x-upload-token']!, ...lastUpload };
  });
  page.on('response', async (res) => {
    if (res.request().method() === 'POST' && res.url().endsWith('/challenge')) challenges.push(await res.json().catch(() => null));
  });
  await page.goto(s.url);
  const take = page.getByRole('button', { name: 'Take selfie', exact: true });
  await expect.poll(() => take.isEnabled(), { timeout: 15_000 }).toBe(true);
  await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement).videoWidth > 0);
  // Before the press the page says what is coming (FLASHING: a photosensitivity notice).
  if (workflowId === 'flashing') expect(await page.getByText('the screen flashes different colours', { exact: false }).isVisible()).toBe(true);
  if (workflowId === 'active-3d') expect(await page.getByText('turn your head', { exact: false }).first().isVisible()).toBe(true);
  await take.click();
  // The callback, or whatever the page showed instead (a retry message, an error screen), as the failure.
  const shown = async (sel: string) => {
    await page.locator(sel).waitFor({ state: 'visible', timeout: 90_000 });
    if (process.env.DEBUG_PAGE && lastUpload) {
      const form = await new Response(new Uint8Array(lastUpload.body), { headers: { 'content-type': lastUpload.contentType } }).formData();
      const { writeFileSync } = await import('node:fs');
      writeFileSync('/tmp/still-fail.jpg', Buffer.from(await (form.get('still') as Blob).arrayBuffer()));
      const frames = form.getAll('frame') as Blob[];
      writeFileSync('/tmp/frame-last.jpg', Buffer.from(await frames[frames.length - 1]!.arrayBuffer()));
      writeFileSync('/tmp/frame-0.jpg', Buffer.from(await frames[0]!.arrayBuffer()));
      console.log('times', form.get('times'));
    }
    throw new Error(`the page showed ${sel}: ${await page.locator(sel).textContent()}`);
  };
  await Promise.race([page.waitForURL((u) => u.toString().startsWith(callbackUrl), { timeout: 90_000 }), shown('#retry-message'), shown('#state-error')]);
  const query = new URL(page.url()).searchParams;
  expect(query.get('verificationSessionId')).toBe(s.session_id);
  const decision = (await api(v, 'GET', `/v3/session/${s.session_id}/decision/`)).body;
  await page.context().close();
  expect(upload).toBeDefined();
  return {
    status: query.get('status')!,
    sessionId: s.session_id,
    decision,
    risks: decision.liveness_checks[0].warnings.map((w: { risk: string }) => w.risk),
    upload: upload!,
    challenges,
    backgrounds: [...backgrounds],
    backgroundAtUpload,
  };
}

/** The multipart fields of an upload the page made. */
async function uploadedForm(u: Upload): Promise<FormData> {
  return new Response(new Uint8Array(u.body), { headers: { 'content-type': u.contentType } }).formData();
}

/** The page asked for a screen-light pattern, showed it on its background and uploaded the burst naming it. */
async function expectScreenLight(r: Outcome): Promise<void> {
  expect(r.challenges).toHaveLength(1);
  const ch = r.challenges[0].challenge as ScreenLightChallenge;
  expect(ch.method).toBe('PASSIVE');
  const form = await uploadedForm(r.upload);
  expect(form.get('challenge_id')).toBe(ch.id);
  expect(form.getAll('frame')).toHaveLength(ch.frames);
  expect(form.get('capture_index')).toBe(String(ch.captureIndex));
  // white and dark grey behind the viewfinder during the burst, white again when it uploads
  expect(r.backgrounds).toContain('rgb(64, 64, 64)');
  expect(r.backgrounds).toContain('rgb(255, 255, 255)');
  expect(r.backgroundAtUpload).toBe('rgb(255, 255, 255)');
  // the pattern's changes, in order, between the first white and the upload (at most the pattern's runs)
  const shown = r.backgrounds.slice(r.backgrounds.indexOf('rgb(255, 255, 255)'), r.backgrounds.lastIndexOf('rgb(255, 255, 255)') + 1);
  const runs = ch.pattern.filter((x, i) => i === 0 || x !== ch.pattern[i - 1]).map((x) => (x ? 'rgb(255, 255, 255)' : 'rgb(64, 64, 64)'));
  const expected = ['rgb(255, 255, 255)', ...runs, 'rgb(255, 255, 255)'].filter((c, i, a) => i === 0 || c !== a[i - 1]);
  expect(shown).toEqual(expected);
}

const activeAnswer = (kind: ActiveKind, seed: number): Answer => async (ch) => (await generateActiveFrames(kind, seed, faces, ch as Active3dChallenge, { zoom: 0.75 })).frames;
const flashAnswer = (kind: FlashKind, seed: number): Answer => async (ch) => (await generateFlashingSample(kind, seed, faces, ch as FlashingChallenge)).frames;
/** PASSIVE screen light: the synthetic burst for the issued pattern, its frame captureIndex replaced by the still (what the page draws the still from). */
const burstAnswer = (kind: SampleKind, seed: number): Answer => async (ch) => {
  const s = await generatePassiveSample(kind, seed, faces.filter((f) => f.identity === 'amy'), { screenLight: { pattern: (ch as ScreenLightChallenge).pattern } });
  return s.burst.map((f, i) => (i === s.captureIndex ? { image: s.still, t: f.t } : f));
};

describe('a still photo fed as the camera', () => {
  it('is refused by PASSIVE with screen light: the page shows the pattern and uploads the burst naming it', async () => {
    const r = await signIn(stillCamera, 'reauth');
    expect(r.status).toBe('Declined');
    expect(r.decision.liveness_checks[0]).toMatchObject({ method: 'PASSIVE', status: 'Declined' });
    expect(r.risks).toContain('LIVENESS_FACE_ATTACK');
    await expectScreenLight(r);
  }, 60_000);

  it('is refused by FLASHING: the face does not reflect the colours', async () => {
    const r = await signIn(stillCamera, 'flashing');
    expect(r.status).toBe('Declined');
    expect(r.decision.liveness_checks[0]).toMatchObject({ method: 'FLASHING', status: 'Declined' });
    expect(r.risks).toEqual(expect.arrayContaining(['FLASH_SEQUENCE_MISMATCH', 'LIVENESS_FACE_ATTACK']));
  }, 60_000);

  it('is refused by ACTIVE_3D: the head never turns', async () => {
    const r = await signIn(stillCamera, 'active-3d');
    expect(r.status).toBe('Declined');
    expect(r.decision.liveness_checks[0]).toMatchObject({ method: 'ACTIVE_3D', status: 'Declined' });
    expect(r.risks).toContain('LIVENESS_FACE_ATTACK');
    expect(r.risks.some((x) => x === 'CHALLENGE_TIMEOUT' || x === 'CHALLENGE_ORDER')).toBe(true);
  }, 90_000);
});

describe('a flat-plane motion video fed as the camera', () => {
  it('is refused by FLASHING, and its upload replayed later is refused too', async () => {
    const r = await signIn(flatCamera, 'flashing');
    expect(r.status).toBe('Declined');
    expect(r.risks).toContain('LIVENESS_FACE_ATTACK');
    // the picture's brightness does not follow the colours (or only by chance, at a wrong lag)
    expect(r.risks.some((x) => ['FLASH_SEQUENCE_MISMATCH', 'CHALLENGE_TIMEOUT', 'FLAT_SHADING'].includes(x))).toBe(true);

    // the same bytes again with the same grant: spent
    const again = await fetch(r.upload.url, { method: 'POST', headers: { 'content-type': r.upload.contentType, 'x-upload-token': r.upload.token }, body: new Uint8Array(r.upload.body) });
    expect(again.status).toBe(409);

    // the recorded response sent in a new session, with that page load's own grant and challenge
    const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: 'flashing', vendor_data: 'replay' });
    const page = await newPage(flatCamera);
    await page.goto(s.url);
    const config = JSON.parse((await page.locator('#capture-config').textContent())!);
    const challenge = await page.evaluate(async (c) => (await fetch(c.challengeUrl, { method: 'POST', headers: { 'X-Upload-Token': c.uploadToken } })).json(), config);
    expect(challenge.challenge.method).toBe('FLASHING');
    await new Promise((res) => setTimeout(res, 4000)); // as long as the sequence takes
    const replay = await fetch(new URL(config.uploadUrl, s.url), { method: 'POST', headers: { 'content-type': r.upload.contentType, 'x-upload-token': config.uploadToken }, body: new Uint8Array(r.upload.body) });
    const replayed = await replay.json();
    expect({ http: replay.status, ...replayed }).toMatchObject({ http: 200, status: 'Declined' });
    const d = (await api(v, 'GET', `/v3/session/${s.session_id}/decision/`)).body;
    expect(d.liveness_checks[0].warnings.map((w: { risk: string }) => w.risk)).toEqual(['CHALLENGE_INVALID']);
    await page.context().close();
  }, 90_000);

  it('is refused by ACTIVE_3D: a picture turned as a plane has no parallax and misses the asked turns', async () => {
    const r = await signIn(flatCamera, 'active-3d');
    expect(r.status).toBe('Declined');
    expect(r.decision.liveness_checks[0]).toMatchObject({ method: 'ACTIVE_3D', status: 'Declined' });
    expect(r.risks).toContain('LIVENESS_FACE_ATTACK');
  }, 90_000);
});

describe('answers played by a camera that follows the challenge', () => {
  it('PASSIVE with screen light: a face lit by the page\'s pattern is Approved', async () => {
    // a fixed issuable pattern (the test in test/verifier/screen-light.test.ts uses the same)
    const r = await signIn(stillCamera, 'screen-light', burstAnswer('bona_fide', 3), randomScreenPattern(seededRng(2024)));
    await expectScreenLight(r);
    expect(r.decision.liveness_checks[0], JSON.stringify(r.decision.liveness_checks[0])).toMatchObject({ method: 'PASSIVE', status: 'Approved' });
    expect(r.status).toBe('Approved');
  }, 120_000);

  it('FLASHING: a face that reflects the sequence is Approved; the same face reflecting it late is refused', async () => {
    const ok = await signIn(stillCamera, 'flashing', flashAnswer('bona_fide', 11));
    expect(ok.decision.liveness_checks[0]).toMatchObject({ method: 'FLASHING', warnings: [] });
    expect(ok.status).toBe('Approved');
    const late = await signIn(stillCamera, 'flashing', flashAnswer('late_response', 11));
    expect(late.status).toBe('Declined');
    expect(late.risks).toContain('CHALLENGE_TIMEOUT');
  }, 120_000);

  it('ACTIVE_3D: the asked turns in order and time are Approved', async () => {
    const r = await signIn(stillCamera, 'active-3d', activeAnswer('bona_fide', 11));
    expect(r.decision.liveness_checks[0]).toMatchObject({ method: 'ACTIVE_3D', warnings: [] });
    expect(r.status).toBe('Approved');
  }, 120_000);

  it('ACTIVE_3D: the asked turns in the wrong order are refused', async () => {
    const r = await signIn(stillCamera, 'active-3d', activeAnswer('wrong_order', 12));
    expect(r.status).toBe('Declined');
    expect(r.risks).toContain('CHALLENGE_ORDER');
  }, 120_000);

  it('ACTIVE_3D: the asked turns, each after its time limit, are refused', async () => {
    const r = await signIn(stillCamera, 'active-3d', activeAnswer('too_late', 13));
    expect(r.status).toBe('Declined');
    expect(r.risks.some((x) => x === 'CHALLENGE_TIMEOUT' || x === 'CHALLENGE_ORDER')).toBe(true);
    expect(cspViolations).toEqual([]);
  }, 120_000);
});
