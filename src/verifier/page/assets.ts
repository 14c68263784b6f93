// The few static files the hosted page needs, served by the verifier itself (no third party):
// the shared stylesheet, assets/verifier/capture.css and the page's script modules in
// assets/verifier/capture/ (main.js imports the others). Names are a closed list; nothing else is read.
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

export function serveAsset(folder: '' | 'verifier/' | 'verifier/capture/') {
  return async (ctx: Context) => {
    const entry = FILES[folder + String(ctx.params.file)];
    if (!entry) return;
    ctx.body = await readFile(path.join(REPO_ROOT, entry[0]));
    ctx.type = entry[1];
    ctx.set('Cache-Control', process.env.NODE_ENV === 'production' ? 'public, max-age=3600' : 'no-cache');
  };
}
