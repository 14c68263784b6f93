// The review queue: sessions In Review, oldest first, with what the service found; Approve or
// Decline with a comment calls the service's update-status (v3), whose webhook then finishes the
// user's waiting sign-in as any verdict does.
import type { Context } from 'koa';
import type { DiditClient } from '../../didit/index.ts';
import { DiditApiError } from '../../didit/index.ts';
import { HttpError } from '../../http/body.ts';
import type { Accounts } from '../accounts.ts';
import { AuditLog, auditSubject } from '../audit.ts';
import { consoleState } from './auth.ts';
import { renderConsole } from './render.ts';
import { allSessions } from './sessions.ts';
import { sessionView } from './verifier-view.ts';

export type ReviewDeps = { client: DiditClient; accounts: Accounts; audit: AuditLog };

const QUEUE_MAX = 50;

export function reviewQueue({ client, accounts }: ReviewDeps) {
  return async (ctx: Context) => {
    const waiting = (await allSessions(client, { status: 'In Review' })).sort((a, b) => (a.created_at ?? '').localeCompare(b.created_at ?? ''));
    const shown = waiting.slice(0, QUEUE_MAX);
    const items = await Promise.all(
      shown.map(async (s) => {
        const view = sessionView(await client.getDecision(s.session_id));
        const account = view.accountId ? await accounts.findById(view.accountId) : undefined;
        return { ...view, email: account?.email ?? null };
      }),
    );
    await renderConsole(ctx, 'admin/review', { title: 'Review queue', items, total: waiting.length, notice: noticeOf(ctx) });
  };
}

function noticeOf(ctx: Context): string | null {
  const done = ctx.query.done;
  return done === 'Approved' ? 'The session was approved.' : done === 'Declined' ? 'The session was declined.' : null;
}

/** POST /admin/review/:id  decision=Approved|Declined, comment. */
export function decide({ client, audit }: ReviewDeps) {
  return async (ctx: Context) => {
    const form = ctx.state.form as URLSearchParams;
    const decision = form.get('decision');
    if (decision !== 'Approved' && decision !== 'Declined') throw new HttpError(400, 'Choose Approve or Decline.');
    const comment = (form.get('comment') ?? '').trim().slice(0, 2000);
    const id = ctx.params.id!;
    const current = await client.getDecision(id).catch(() => undefined);
    if (!current) throw new HttpError(404, 'There is no such verification session.');
    if (current.status !== 'In Review') throw new HttpError(409, `This session is ${current.status}, not In Review: someone decided it already.`);
    try {
      await client.updateStatus(id, { new_status: decision, ...(comment ? { comment } : {}) });
    } catch (err) {
      if (err instanceof DiditApiError && err.status < 500) throw new HttpError(409, `The verification service refused: ${JSON.stringify(err.body).slice(0, 300)}`);
      throw err;
    }
    const operator = consoleState(ctx).console.accountId;
    await audit.append(decision === 'Approved' ? 'review.approved' : 'review.declined', {
      actor: auditSubject(operator),
      subject: current.vendor_data ? auditSubject(current.vendor_data) : null,
      details: { session_id: id, workflow_id: current.workflow_id ?? '', comment },
    });
    ctx.status = 303;
    ctx.redirect(`/admin/review?done=${decision}`);
  };
}
