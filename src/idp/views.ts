// Server-rendered pages. Every page we render carries a strict CSP: no inline script, no
// third-party origin; styles and scripts come from /assets on this server. The console's pages
// load no script, and their CSP forbids any.
import path from 'node:path';
import ejs from 'ejs';
import type { Context } from 'koa';
import { REPO_ROOT } from '../config.ts';

export const VIEWS_DIR = path.join(REPO_ROOT, 'views');

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The operator console's pages (and errors under /admin) run no script at all: script-src 'none'. */
export const CONSOLE_CSP = PAGE_CSP.replace("script-src 'self'", "script-src 'none'").replace("connect-src 'self'", "connect-src 'none'");
const isConsole = (ctx: Context) => ctx.path === '/admin' || ctx.path.startsWith('/admin/');

/**
 * Compiled templates (and their partials) are kept, in ejs's cache, for the life of the process:
 * compiling a page on every request was most of its rendering cost. NODE_ENV=development compiles
 * afresh each time, so an edited view shows on reload.
 */
export const CACHE_TEMPLATES = process.env.NODE_ENV !== 'development';

export async function renderView(view: string, data: Record<string, unknown>): Promise<string> {
  return ejs.renderFile(path.join(VIEWS_DIR, `${view}.ejs`), data, { async: false, cache: CACHE_TEMPLATES });
}

export async function renderPage(ctx: Context, view: string, data: Record<string, unknown>, status = 200): Promise<void> {
  const html = await renderView(view, { title: 'Selfie sign-in', ...data });
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.set('Content-Security-Policy', isConsole(ctx) ? CONSOLE_CSP : PAGE_CSP);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = html;
}
