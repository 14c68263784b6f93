// The few static files the hosted page needs, served by the verifier itself (no third party):
// the shared stylesheet and assets/verifier/*. Names are a closed list; nothing else is read.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Context } from 'koa';
import { REPO_ROOT } from '../../config.ts';

const FILES: Record<string, [file: string, type: string]> = {
  'style.css': ['assets/style.css', 'text/css; charset=utf-8'],
  'verifier/capture.css': ['assets/verifier/capture.css', 'text/css; charset=utf-8'],
  'verifier/capture.js': ['assets/verifier/capture.js', 'text/javascript; charset=utf-8'],
};

export function serveAsset(folder: '' | 'verifier/') {
  return async (ctx: Context) => {
    const entry = FILES[folder + String(ctx.params.file)];
    if (!entry) return;
    ctx.body = await readFile(path.join(REPO_ROOT, entry[0]));
    ctx.type = entry[1];
    ctx.set('Cache-Control', process.env.NODE_ENV === 'production' ? 'public, max-age=3600' : 'no-cache');
  };
}
