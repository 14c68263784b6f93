// PATCH /v3/session/{id}/update-status/ — an operator's review: Approved, Declined or Resubmitted,
// only from a status a review may change. The change sends a webhook like any other.
import type { Context } from 'koa';
import { readJson } from '../../http/body.ts';
import { UPDATE_STATUS_FROM, toFieldErrors, updateStatusRequestSchema } from '../../didit/index.ts';
import type { VerifierDeps } from '../deps.ts';
import { fieldErrors } from '../http/errors.ts';
import { TransitionNotAllowed, operatorUpdate } from '../sessions/lifecycle.ts';
import { updateSession } from '../sessions/transition.ts';
import { enrolPending } from '../capture/enrol.ts';
import { loadTemplate, releaseTemplate } from '../templates.ts';
import type { SessionRecord } from '../sessions/types.ts';
import { sessionOr404 } from './load-session.ts';

/**
 * Approving a kyc session: true when this call claimed the vendor_data's template with the face the
 * session holds (set-if-absent), false when the session already owns it or is not an enrolment.
 * Refused (400) when the vendor_data has another face, or when the session holds none (declined
 * sessions drop theirs: the user enrols again).
 */
async function claimForApproval(deps: VerifierDeps, record: SessionRecord): Promise<boolean> {
  if (record.workflow_type !== 'kyc' || record.vendor_data === null) return false;
  const existing = await loadTemplate(deps.store, record.vendor_data);
  if (existing?.source_session_id === record.session_id) return false;
  const refuse = (why: string) => fieldErrors({ new_status: [why] });
  if (existing) throw refuse('This vendor_data already has an enrolled face; an enrolment cannot replace it. Decline this session, or delete the enrolled face first.');
  if (!record.pending_template) throw refuse('This enrolment holds no face to enrol (a declined enrolment keeps none): the user must enrol again.');
  if (!(await enrolPending(deps.store, { ...record, status: 'Approved' }))) throw refuse('Another enrolment of this vendor_data was approved meanwhile.');
  return true;
}

export function updateStatus(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const record = await sessionOr404(deps, ctx.params.id);
    const body = await readJson(ctx, 16 * 1024);
    const parsed = updateStatusRequestSchema.safeParse(body);
    if (!parsed.success) throw fieldErrors(toFieldErrors(parsed.error));
    const { new_status, comment } = parsed.data;
    // An Approved enrolment always means "this face is the vendor_data's" (capture/enrol.ts): an
    // operator's approval claims the face the session holds, or is refused.
    // A status no review may change is refused as such first (the lifecycle's own rule).
    if (!(UPDATE_STATUS_FROM as readonly string[]).includes(record.status)) throw fieldErrors({ new_status: [`A session in status "${record.status}" cannot be updated.`] });
    const claimed = new_status === 'Approved' ? await claimForApproval(deps, record) : false;
    try {
      const result = await updateSession(deps, record.session_id, operatorUpdate(new_status, comment, `api-key:${ctx.state.apiKeyId}`, deps.config.sessionExpiryMs));
      if (claimed && result?.record.pending_template) await updateSession(deps, record.session_id, (r) => ({ ...r, pending_template: null }));
    } catch (err) {
      if (claimed) await releaseTemplate(deps.store, record.vendor_data!, record.session_id);
      if (err instanceof TransitionNotAllowed) throw fieldErrors({ new_status: [`A session in status "${err.from}" cannot be updated.`] });
      throw err;
    }
    ctx.body = { session_id: record.session_id };
  };
}
