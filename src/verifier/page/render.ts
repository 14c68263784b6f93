// Renders the verifier's pages (views/verifier/) with the house CSP: scripts and styles only from
// this server, no third-party origin, camera allowed for this origin only.
import path from 'node:path';
import ejs from 'ejs';
import type { Context } from 'koa';
import { CACHE_TEMPLATES, PAGE_CSP, VIEWS_DIR } from '../../idp/views.ts';
import { CAPTURE_MODULES_PATH } from './assets.ts';

export async function renderVerifierPage(ctx: Context, view: string, data: Record<string, unknown>, status = 200): Promise<void> {
  const html = await ejs.renderFile(path.join(VIEWS_DIR, 'verifier', `${view}.ejs`), { captureModules: CAPTURE_MODULES_PATH, ...data }, { async: true, cache: CACHE_TEMPLATES });
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Security-Policy', PAGE_CSP);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = html;
}

/** JSON for a `<script type="application/json">` block: nothing in it can close the element. */
export function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
