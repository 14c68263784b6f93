// GET /session/<token>/status — polled by the page that started a hand-off (the QR code screen)
// so it moves on by itself when the phone finishes. Says no more than the callback would, and only
// to a browser that loaded this session's page (viewer.ts): the redirect carries the session id
// that finishes a sign-in, and knowing the page's address is not enough to be handed it.
import type { Context } from 'koa';
import type { VerifierDeps } from '../deps.ts';
import { redirectFor } from '../capture/respond.ts';
import { loadSession, sessionIdForToken } from '../sessions/repo.ts';
import { TOKEN } from './show.ts';
import { isViewer } from './viewer.ts';

const FINISHED = ['Approved', 'Declined', 'In Review', 'Abandoned', 'Expired', 'Kyc Expired'];

export function sessionStatus(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const token = String(ctx.params.token);
    const id = TOKEN.test(token) ? await sessionIdForToken(deps.store, token) : undefined;
    const record = id ? await loadSession(deps.store, id) : undefined;
    ctx.set('Cache-Control', 'no-store');
    if (!record || !(await isViewer(ctx, deps.store, record.session_id))) {
      ctx.status = 404;
      ctx.body = { status: null, finished: true, redirect: null };
      return;
    }
    const finished = FINISHED.includes(record.status);
    const judged = ['Approved', 'Declined', 'In Review'].includes(record.status);
    ctx.body = { status: record.status, finished, redirect: judged ? redirectFor(record, 'initiator') : null };
  };
}
