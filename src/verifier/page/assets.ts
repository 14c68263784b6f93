// The few static files the hosted page needs, served by the verifier itself (no third party):
// the shared stylesheet, assets/verifier/capture.css and the page's script modules in
// assets/verifier/capture/ (main.js imports the others). Names are a closed list; nothing else is read.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from 'koa';
import { REPO_ROOT } from '../../config.ts';

const JS = 'text/javascript; charset=utf-8'; // a module script must be served as JavaScript

const FILES: Record<string, [file: string, type: string]> = {
  'style.css': ['assets/style.css', 'text/css; charset=utf-8'],
  'verifier/capture.css': ['assets/verifier/capture.css', 'text/css; charset=utf-8'],
  'verifier/capture/main.js': ['assets/verifier/capture/main.js', JS],
  'verifier/capture/states.js': ['assets/verifier/capture/states.js', JS],
  'verifier/capture/camera.js': ['assets/verifier/capture/camera.js', JS],
  'verifier/capture/frames.js': ['assets/verifier/capture/frames.js', JS],
  'verifier/capture/handoff.js': ['assets/verifier/capture/handoff.js', JS],
  'verifier/capture/screen-light.js': ['assets/verifier/capture/screen-light.js', JS],
  'verifier/capture/burst.js': ['assets/verifier/capture/burst.js', JS],
  'verifier/capture/challenge-request.js': ['assets/verifier/capture/challenge-request.js', JS],
  'verifier/capture/challenge-recording.js': ['assets/verifier/capture/challenge-recording.js', JS],
  'verifier/capture/upload.js': ['assets/verifier/capture/upload.js', JS],
  'verifier/capture/unsupported.js': ['assets/verifier/capture/unsupported.js', JS],
};

/**
 * The capture modules are served under a folder named after their contents
 * (`/assets/verifier/capture/<version>/main.js`): main.js imports the others by relative URL, so
 * a page loads one release's set whole, and a deploy that changes any module changes every URL. Under
 * one name per release, a browser holding some modules in its cache could run an old one beside a
 * new one it had to fetch, and fail to start.
 */
export const CAPTURE_MODULES_VERSION = createHash('sha256')
  .update(Object.entries(FILES).filter(([name]) => name.startsWith('verifier/capture/')).map(([name, [file]]) => `${name}\0${readFileSync(path.join(REPO_ROOT, file), 'utf8')}`).join('\0'))
  .digest('hex')
  .slice(0, 12);

/** Where the page loads its modules from. */
export const CAPTURE_MODULES_PATH = `/assets/verifier/capture/${CAPTURE_MODULES_VERSION}`;

const production = () => process.env.NODE_ENV === 'production';

export function serveAsset(folder: '' | 'verifier/' | 'verifier/capture/') {
  return async (ctx: Context) => {
    const entry = FILES[folder + String(ctx.params.file)];
    if (!entry) return;
    ctx.body = await readFile(path.join(REPO_ROOT, entry[0]));
    ctx.type = entry[1];
    if (folder !== 'verifier/capture/') return void ctx.set('Cache-Control', production() ? 'public, max-age=3600' : 'no-cache');
    // This release's modules never change under their URL. Another version's URL (a page rendered by
    // an instance of another release, during a rolling deploy) gets this release's files, kept by
    // nobody: the mixed set may fail once, and is not cached to fail again.
    if (ctx.params.version !== CAPTURE_MODULES_VERSION) ctx.set('Cache-Control', 'no-store');
    else ctx.set('Cache-Control', production() ? 'public, max-age=31536000, immutable' : 'no-cache');
  };
}
