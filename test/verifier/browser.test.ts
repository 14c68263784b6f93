// The hosted capture page in a real browser: Debian's Chromium with a fake camera fed a y4m made
// from a shared face (padded onto a 640×480 frame). A capture through the page is Approved against
// another image of the same person and Declined against someone else, and the browser lands on
// the callback. With PASSIVE liveness the page uploads a burst, and the still photo the fake camera
// plays is refused. Also the camera-denied and no-camera screens, the fallback for browsers
// without module scripts, and Bahasa Indonesia.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { launchWithCamera } from '../helpers/chromium.ts';
import { tempDir } from '../helpers/env.ts';
import { api, portraitB64, selfieRgb, startReceiver, startTestVerifier, waitFor } from '../helpers/verifier.ts';
import type { Receiver, TestVerifier } from '../helpers/verifier.ts';
import { writeY4m } from '../helpers/y4m.ts';

const face = lazyFaceEngine({ poolSize: 2 });
const tmp = tempDir('verifier-browser');
let v: TestVerifier;
let receiver: Receiver;
let browser: Browser;
let callbackServer: Server;
let callbackUrl: string;
const cspViolations: string[] = [];

beforeAll(async () => {
  const camera = path.join(tmp.dir, 'amy.y4m');
  writeY4m(camera, [await selfieRgb('amy', 1)], 640, 480);
  [receiver, browser] = await Promise.all([
    startReceiver(),
    launchWithCamera(camera),
    face.warm(),
  ]);
  v = await startTestVerifier({ face, env: { VERIFIER_WEBHOOK_URL: receiver.url } });
  callbackServer = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end('<!doctype html><title>callback</title><p>back at the relying party</p>');
  });
  await new Promise<void>((r) => callbackServer.listen(0, '127.0.0.1', () => r()));
  callbackUrl = `http://127.0.0.1:${(callbackServer.address() as { port: number }).port}/reauth/callback`;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await v?.stop();
  await receiver?.close();
  await new Promise((r) => callbackServer?.close(r));
  await face.close();
  tmp.remove();
});

async function newPage(init?: string): Promise<Page> {
  const context = await browser.newContext({ locale: 'en-GB' });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  // No request may leave for a third party.
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.hostname !== '127.0.0.1') throw new Error(`third-party request to ${u.origin}`);
  });
  page.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
  });
  return page;
}

async function captureInBrowser(portrait: string, vendor: string, workflowId = 'face-only'): Promise<{ status: string; sessionId: string; page: Page }> {
  const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: workflowId, vendor_data: vendor, callback: callbackUrl, portrait_image: portrait });
  const page = await newPage();
  await page.goto(s.url);
  const take = page.getByRole('button', { name: 'Take selfie', exact: true });
  await expect.poll(() => take.isEnabled(), { timeout: 15_000 }).toBe(true);
  // Let the fake camera deliver a few frames before the still is taken.
  await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement).videoWidth > 0);
  await take.click();
  await page.waitForURL((u) => u.toString().startsWith(callbackUrl), { timeout: 20_000 });
  const query = new URL(page.url()).searchParams;
  expect(query.get('verificationSessionId')).toBe(s.session_id);
  return { status: query.get('status')!, sessionId: s.session_id, page };
}

describe('hosted capture page in Chromium with a fake camera', () => {
  it('a capture of amy is Approved against another image of amy', async () => {
    const { status, sessionId, page } = await captureInBrowser(await portraitB64('amy', 2), 'browser-amy');
    expect(status).toBe('Approved');
    const decision = (await api(v, 'GET', `/v3/session/${sessionId}/decision/`)).body;
    expect(decision.status).toBe('Approved');
    expect(decision.face_matches[0].score).toBeGreaterThan(56);
    await waitFor('webhook', () => receiver.deliveries.find((d) => d.body.includes(sessionId) && d.body.includes('"status":"Approved"')));
    expect(cspViolations).toEqual([]);
    await page.context().close();
  });

  it('the same capture is Declined against someone else', async () => {
    const { status, sessionId, page } = await captureInBrowser(await portraitB64('howard', 2), 'browser-howard');
    expect(status).toBe('Declined');
    const decision = (await api(v, 'GET', `/v3/session/${sessionId}/decision/`)).body;
    expect(decision.face_matches[0].warnings[0].risk).toBe('LOW_FACE_MATCH_SIMILARITY');
    await page.context().close();
  });

  it('PASSIVE liveness: the page uploads a burst, and a still photo fed as the camera is Declined', async () => {
    const { status, sessionId, page } = await captureInBrowser(await portraitB64('amy', 2), 'browser-still', 'reauth');
    expect(status).toBe('Declined');
    const decision = (await api(v, 'GET', `/v3/session/${sessionId}/decision/`)).body;
    const live = decision.liveness_checks[0];
    expect(live).toMatchObject({ node_id: 'liveness_1', method: 'PASSIVE', status: 'Declined' });
    const risks = live.warnings.map((w: { risk: string }) => w.risk);
    // The burst reached the server (no LIVENESS_BURST_MISSING) and showed a frozen picture.
    expect(risks).not.toContain('LIVENESS_BURST_MISSING');
    expect(risks.includes('LIVENESS_FACE_ATTACK') || risks.includes('LOW_LIVENESS_SCORE')).toBe(true);
    // The face itself is amy's: only liveness refused it.
    expect(decision.face_matches[0].status).toBe('Approved');
    expect(cspViolations).toEqual([]);
    await page.context().close();
  });

  it("VIRTUAL_CAMERA: the page reports its camera, and Chromium's fake device is named (default action: review)", async () => {
    const { sessionId, page } = await captureInBrowser(await portraitB64('amy', 2), 'browser-vcam', 'vcam-review');
    const decision = (await api(v, 'GET', `/v3/session/${sessionId}/decision/`)).body;
    const vcam = decision.liveness_checks[0].warnings.find((w: { risk: string }) => w.risk === 'VIRTUAL_CAMERA');
    expect(vcam).toMatchObject({ additional_data: { action: 'review', reason: expect.stringMatching(/fake camera/) } });
    // A still picture as the camera: whatever else, never Approved.
    expect(decision.status).not.toBe('Approved');
    await page.context().close();
  });

  it('camera permission denied: explains how to allow it, with a working "Try again"', async () => {
    const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: 'face-only' });
    const page = await newPage(`navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));`);
    await page.goto(s.url);
    const heading = page.getByRole('heading', { name: 'Camera access is blocked' });
    await expect.poll(() => heading.isVisible()).toBe(true);
    // Focus moves to the new state's heading for screen readers and keyboards.
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('h-denied');
    expect(await page.getByRole('button', { name: 'Try again' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Take selfie' }).isVisible()).toBe(false);
    await page.context().close();
  });

  it('no camera: a QR code of the session URL to continue on a phone', async () => {
    const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: 'face-only' });
    const page = await newPage(`navigator.mediaDevices.enumerateDevices = () => Promise.resolve([]);`);
    await page.goto(s.url);
    await expect.poll(() => page.getByRole('heading', { name: 'No camera found' }).isVisible()).toBe(true);
    const qr = page.getByRole('img', { name: /QR code/ }).first();
    expect(await qr.isVisible()).toBe(true);
    expect(await page.locator('#state-nocamera code.url').textContent()).toBe(`${s.url}?handoff=1`);
    await page.context().close();
  });

  it('a browser without module scripts gets the nomodule fallback: the QR hand-off, polling the status', async () => {
    const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: 'face-only' });
    const page = await newPage();
    // Chromium runs modules, so the page is served as such a browser would treat it: the module
    // script left out, the nomodule script run.
    await page.route((u) => u.toString() === s.url, async (route) => {
      const res = await route.fetch();
      const html = (await res.text()).replace(/<script type="module"[^>]*><\/script>/, '').replace('<script nomodule ', '<script ');
      await route.fulfill({ response: res, body: html });
    });
    const polled = page.waitForRequest((req) => new URL(req.url()).pathname === `${new URL(s.url).pathname}/status`, { timeout: 10_000 });
    await page.goto(s.url);
    await expect.poll(() => page.getByRole('heading', { name: 'This browser cannot take a selfie' }).isVisible()).toBe(true);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('h-unsupported');
    expect(await page.getByRole('button', { name: 'Take selfie' }).isVisible()).toBe(false);
    await polled;
    expect(cspViolations).toEqual([]);
    await page.context().close();
  });

  it('Bahasa Indonesia from the session language: the button is "Ambil selfie"', async () => {
    const { body: s } = await api(v, 'POST', '/v3/session/', { workflow_id: 'face-only', language: 'id' });
    const page = await newPage();
    await page.goto(s.url);
    expect(await page.getAttribute('html', 'lang')).toBe('id');
    await expect.poll(() => page.getByRole('button', { name: 'Ambil selfie', exact: true }).isEnabled(), { timeout: 15_000 }).toBe(true);
    await page.context().close();
    expect(cspViolations).toEqual([]);
  });
});
