// The hosted page over plain HTTP: headers (strict CSP, no-store, no referrer), language choice,
// states for unknown, expired and finished sessions, the hand-off status poll, assets. Plus the
// small parsers the page and IP analysis rely on.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/config.ts';
import { PAGE_CSP } from '../../src/idp/views.ts';
import { lazyFaceEngine } from '../../src/verifier/face-port.ts';
import { CAPTURE_MODULES_PATH } from '../../src/verifier/page/assets.ts';
import { pickLanguage } from '../../src/verifier/page/i18n.ts';
import { parseUserAgent } from '../../src/verifier/steps/user-agent.ts';
import { api, openPage, startTestVerifier, waitFor } from '../helpers/verifier.ts';
import type { TestVerifier } from '../helpers/verifier.ts';
import { Browser } from '../helpers/server.ts';

const face = lazyFaceEngine({ poolSize: 1 });
let v: TestVerifier;
beforeAll(async () => {
  v = await startTestVerifier({ face, env: { VERIFIER_CAPTURE_WINDOW: '1s' } });
});
afterAll(async () => {
  await v?.stop();
  await face.close();
});

const session = async (body: Record<string, unknown> = {}) => (await api(v, 'POST', '/v3/session/', { workflow_id: 'face-only', ...body })).body;

describe('hosted page', () => {
  it('opens the session, with strict headers and only our own script and styles', async () => {
    const s = await session({ callback: 'https://rp.example/cb' });
    const res = await fetch(s.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(PAGE_CSP);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('permissions-policy')).toMatch(/camera=\(self\)/);
    const html = await res.text();
    expect(html).toContain('<html lang="en">');
    expect(html).toMatch(/<button id="take" type="button" disabled>Take selfie<\/button>/);
    expect(html).toContain(`<script type="module" src="${CAPTURE_MODULES_PATH}/main.js"></script>`);
    expect(html).toContain(`<script nomodule src="${CAPTURE_MODULES_PATH}/unsupported.js" defer></script>`);
    expect(CAPTURE_MODULES_PATH).toMatch(/^\/assets\/verifier\/capture\/[0-9a-f]{12}$/);
    expect(html).not.toMatch(/<script>(?!<)/); // no inline script
    expect(html).not.toMatch(/(src|href)="https?:/); // nothing from another origin
    expect(html).not.toMatch(/style="/); // the CSP forbids inline styles
    expect(html).toMatch(/<svg [^>]*role="img" aria-label="QR code/);
    expect((await api(v, 'GET', `/v3/session/${s.session_id}/decision/`)).body.status).toBe('In Progress');
  });

  it('speaks Bahasa Indonesia from the session language, else Accept-Language', async () => {
    const id = await openPage((await session({ language: 'id' })).url, { 'accept-language': 'en-US' });
    expect(id.html).toContain('<html lang="id">');
    expect(id.html).toContain('>Ambil selfie</button>');
    const byHeader = await openPage((await session()).url, { 'accept-language': 'id-ID,id;q=0.9,en;q=0.5' });
    expect(byHeader.html).toContain('>Ambil selfie</button>');
    const en = await openPage((await session({ language: 'en' })).url, { 'accept-language': 'id' });
    expect(en.html).toContain('>Take selfie</button>');
  });

  it('an enrolment page says a template is kept; a sign-in page says nothing is', async () => {
    const enrol = await openPage((await session({ workflow_id: 'kyc' })).url);
    expect(enrol.html).toContain('set up signing in with your face');
    expect(enrol.html).toContain('encrypted face template');
    const signin = await openPage((await session()).url);
    expect(signin.html).toContain('is not kept');
    expect(signin.html).not.toContain('encrypted face template');
  });

  it('unknown or malformed tokens: 404 with the expired screen, no upload grant', async () => {
    for (const token of ['AAAAAAAAAAAAAAAAAAAAAAAA', 'x', '%3Cscript%3E']) {
      const page = await openPage(`${v.url}/session/${token}`);
      expect(page.status).toBe(404);
      expect(page.config).toMatchObject({ state: 'expired', uploadToken: null });
      expect(page.html).not.toContain('<script>');
    }
    expect((await fetch(`${v.url}/session/AAAAAAAAAAAAAAAAAAAAAAAA/status`)).status).toBe(404);
  });

  it('the status poll reports progress, and after a verdict the initiator redirect; a finished page offers Continue', async () => {
    const s = await session({ callback: 'https://rp.example/cb' });
    const browser = new Browser();
    const status = async (who: Browser) => (await who.fetch(`${v.url}/session/${s.session_token}/status`)).json();
    await browser.fetch(s.url);
    expect(await status(browser)).toMatchObject({ status: 'In Progress', finished: false, redirect: null });
    await waitFor('Abandoned', async () => (await status(browser)).status === 'Abandoned', 5000);
    expect(await status(browser)).toEqual({ status: 'Abandoned', finished: true, redirect: null });
    await api(v, 'PATCH', `/v3/session/${s.session_id}/update-status/`, { new_status: 'Approved' });
    expect((await status(browser)).redirect).toBe(`https://rp.example/cb?verificationSessionId=${s.session_id}&status=Approved`);
    const res = await browser.fetch(s.url);
    const html = await res.text();
    expect(html).toContain('"state":"done"');
    expect(html).toContain(`href="https://rp.example/cb?verificationSessionId=${s.session_id}&amp;status=Approved"`);
  });

  it('another browser that knows the page address learns nothing that finishes the sign-in', async () => {
    const s = await session({ callback: 'https://rp.example/cb' });
    const owner = new Browser();
    await owner.fetch(s.url);
    const stranger = new Browser();
    const before = await stranger.fetch(`${v.url}/session/${s.session_token}/status`);
    expect(before.status).toBe(404);
    expect(await before.json()).toEqual({ status: null, finished: true, redirect: null });
    await waitFor('Abandoned', async () => (await (await owner.fetch(`${v.url}/session/${s.session_token}/status`)).json()).status === 'Abandoned', 5000);
    await api(v, 'PATCH', `/v3/session/${s.session_id}/update-status/`, { new_status: 'Approved' });
    const after = await stranger.fetch(`${v.url}/session/${s.session_token}/status`);
    expect(after.status).toBe(404);
    expect(JSON.stringify(await after.json())).not.toContain(s.session_id);
    // The finished page opened by the stranger: no Continue link, no session id anywhere.
    const page = await openPage(s.url);
    expect(page.config.state).toBe('done');
    expect(page.html).not.toContain(s.session_id);
    expect(page.html).not.toContain('rp.example/cb');
    // A forged viewer cookie is no better.
    const forged = await fetch(`${v.url}/session/${s.session_token}/status`, { headers: { cookie: 'capture_viewer=AAAAAAAAAAAAAAAAAAAAAAAA' } });
    expect(forged.status).toBe(404);
    // The owner still gets it.
    expect((await (await owner.fetch(`${v.url}/session/${s.session_token}/status`)).json()).redirect).toContain(s.session_id);
  });

  it('serves its assets and nothing else', async () => {
    // The entry module, every module it imports (transitively, as the browser would), and the
    // nomodule fallback: each served as JavaScript (a module script is refused otherwise).
    const seen = new Map<string, string>();
    const queue = ['main.js', 'unsupported.js'];
    while (queue.length) {
      const name = queue.shift()!;
      if (seen.has(name)) continue;
      const js = await fetch(`${v.url}${CAPTURE_MODULES_PATH}/${name}`);
      expect(js.status, name).toBe(200);
      expect(js.headers.get('content-type'), name).toMatch(/^text\/javascript/);
      expect(js.headers.get('cache-control'), name).toBe('no-cache'); // immutable in production
      const text = await js.text();
      seen.set(name, text);
      for (const m of text.matchAll(/^import [^;]* from '\.\/([a-z-]+\.js)';$/gm)) queue.push(m[1]!);
    }
    expect([...seen.keys()].sort()).toEqual(['burst.js', 'camera.js', 'challenge-recording.js', 'challenge-request.js', 'frames.js', 'handoff.js', 'main.js', 'screen-light.js', 'states.js', 'unsupported.js', 'upload.js']);
    expect(seen.get('camera.js')).toMatch(/getUserMedia/);
    // Every script in the folder is one of them (a module left out of assets.ts would not load).
    expect(readdirSync(path.join(REPO_ROOT, 'assets/verifier/capture')).sort()).toEqual([...seen.keys()].sort());
    expect((await fetch(`${v.url}/assets/style.css`)).headers.get('content-type')).toMatch(/text\/css/);
    expect((await fetch(`${v.url}/assets/verifier/capture.css`)).status).toBe(200);
    const m = CAPTURE_MODULES_PATH;
    for (const p of ['/assets/verifier/..%2F..%2Fpackage.json', '/assets/../package.json', '/assets/verifier/other.js', '/assets/verifier/capture.js', '/assets/verifier/capture/main.js', `${m}/other.js`, `${m}/..%2F..%2Fcapture.css`, `${m}/main.js/x`]) expect((await fetch(v.url + p)).status, p).toBe(404);
    // another release's folder (a page from an instance of another version): this release's module, cached by nobody
    const other = await fetch(`${v.url}/assets/verifier/capture/000000000000/main.js`);
    expect(other.status).toBe(200);
    expect(other.headers.get('cache-control')).toBe('no-store');
    expect(await other.text()).toBe(seen.get('main.js'));
    expect(await (await fetch(`${v.url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${v.url}/readyz`)).json()).toMatchObject({ status: 'ready' });
  });

  it('never logs a session token', async () => {
    const s = await session();
    await openPage(s.url);
    expect(v.logs.join('')).not.toContain(s.session_token);
  });
});

describe('parsers', () => {
  it('pickLanguage', () => {
    expect(pickLanguage('id', 'en')).toBe('id');
    expect(pickLanguage('fr', 'fr-FR,id;q=0.8,en;q=0.9')).toBe('en');
    expect(pickLanguage(null, 'fr-FR,id;q=0.9,en;q=0.8')).toBe('id');
    expect(pickLanguage(null, 'id;q=0')).toBe('en');
    expect(pickLanguage(null, undefined)).toBe('en');
    expect(pickLanguage('id-ID', undefined)).toBe('id');
  });

  it('parseUserAgent', () => {
    expect(parseUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36 Edg/130.0')).toEqual({ browser: 'Edge', os: 'Windows', device: 'desktop' });
    expect(parseUserAgent('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Mobile Safari/537.36')).toEqual({ browser: 'Chrome', os: 'Android', device: 'mobile' });
    expect(parseUserAgent('Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1')).toEqual({ browser: 'Safari', os: 'iOS', device: 'tablet' });
    expect(parseUserAgent('Mozilla/5.0 (Macintosh; Intel Mac OS X 14.0; rv:131.0) Gecko/20100101 Firefox/131.0')).toEqual({ browser: 'Firefox', os: 'Mac OS X', device: 'desktop' });
    expect(parseUserAgent('curl/8.5.0').device).toBe('bot');
    expect(parseUserAgent(null)).toEqual({ browser: null, os: null, device: null });
  });
});
