// GET /v3/session/{id}/media/{name} — retained media (workflows with retain_media only).
import type { Context } from 'koa';
import type { VerifierDeps } from '../deps.ts';
import { NOT_FOUND } from '../http/errors.ts';
import { MEDIA_NAMES, loadMedia } from '../media.ts';
import type { MediaName } from '../media.ts';
import { sessionOr404 } from './load-session.ts';

export function getMedia(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const record = await sessionOr404(deps, ctx.params.id);
    const name = ctx.params.name as MediaName;
    if (!MEDIA_NAMES.includes(name) || !record.media.includes(name)) throw NOT_FOUND();
    const bytes = await loadMedia(deps.store, record.session_id, name);
    if (!bytes) throw NOT_FOUND();
    ctx.type = 'image/jpeg';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = bytes;
  };
}
