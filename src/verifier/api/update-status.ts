// PATCH /v3/session/{id}/update-status/ — an operator's review: Approved, Declined or Resubmitted,
// only from a status a review may change. The change sends a webhook like any other.
import type { Context } from 'koa';
import { readJson } from '../../http/body.ts';
import { toFieldErrors, updateStatusRequestSchema } from '../../didit/index.ts';
import type { VerifierDeps } from '../deps.ts';
import { fieldErrors } from '../http/errors.ts';
import { TransitionNotAllowed, operatorUpdate } from '../sessions/lifecycle.ts';
import { updateSession } from '../sessions/transition.ts';
import { enrolPending } from '../capture/enrol.ts';
import { loadTemplate } from '../templates.ts';
import { sessionOr404 } from './load-session.ts';

export function updateStatus(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const record = await sessionOr404(deps, ctx.params.id);
    const body = await readJson(ctx, 16 * 1024);
    const parsed = updateStatusRequestSchema.safeParse(body);
    if (!parsed.success) throw fieldErrors(toFieldErrors(parsed.error));
    const { new_status, comment } = parsed.data;
    // An enrolment waiting for review cannot be approved over a face the vendor_data already has.
    if (new_status === 'Approved' && record.pending_template && record.vendor_data !== null && (await loadTemplate(deps.store, record.vendor_data))) {
      throw fieldErrors({ new_status: ['This vendor_data already has an enrolled face; an enrolment cannot replace it. Decline this session, or delete the enrolled face first.'] });
    }
    try {
      const result = await updateSession(deps, record.session_id, operatorUpdate(new_status, comment, `api-key:${ctx.state.apiKeyId}`, deps.config.sessionExpiryMs));
      // An enrolment that waited for this review becomes the account's face now.
      if (result?.record.pending_template && (await enrolPending(deps.store, result.record))) {
        await updateSession(deps, record.session_id, (r) => ({ ...r, pending_template: null }));
      }
    } catch (err) {
      if (err instanceof TransitionNotAllowed) throw fieldErrors({ new_status: [`A session in status "${err.from}" cannot be updated.`] });
      throw err;
    }
    ctx.body = { session_id: record.session_id };
  };
}
