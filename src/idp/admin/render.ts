// Console pages: the shared layout's data (the CSRF token of this console session, the nav) added
// to each view's own.
import type { Context } from 'koa';
import { renderPage } from '../views.ts';
import { consoleState } from './auth.ts';

export async function renderConsole(ctx: Context, view: string, data: Record<string, unknown>, status = 200): Promise<void> {
  await renderPage(ctx, view, { csrf: consoleState(ctx).csrf, path: ctx.path, notice: null, ...data }, status);
}

