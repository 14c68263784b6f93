// Step 1: the upload must carry this page load's grant (X-Upload-Token), for this session token,
// and the session must still be taking a capture. The grant is used up here, whatever follows,
// and so is the liveness challenge issued to it (FLASHING / ACTIVE_3D / PASSIVE with screen light).
import type { Context } from 'koa';
import type { Challenge } from '../../liveness/index.ts';
import type { VerifierDeps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import { K } from '../keys.ts';
import { captureWindowOver } from '../sessions/lifecycle.ts';
import { loadSession } from '../sessions/repo.ts';
import type { SessionRecord } from '../sessions/types.ts';
import { usesChallenge, type Workflow } from '../workflows.ts';
import { takeGrant } from './upload-grant.ts';
import type { UploadGrant } from './upload-grant.ts';

export type ClaimedUpload = { grantId: string; grant: UploadGrant; record: SessionRecord; workflow: Workflow; challenge: Challenge | undefined };

export const EXPIRED = () => new ApiError(410, { outcome: 'expired', detail: 'This verification has expired.' });
export const STALE = () => new ApiError(409, { outcome: 'stale', detail: 'This upload is not valid any more; reload the page.' });

/** The X-Upload-Token header, if it can be a grant id at all. */
export function grantIdOf(ctx: Context): string {
  const grantId = ctx.get('x-upload-token');
  if (!grantId || grantId.length > 64) throw STALE();
  return grantId;
}

/** The session a grant was handed out for, if it is still this grant's turn to capture. */
export async function sessionForGrant(deps: VerifierDeps, ctx: Context, grantId: string, grant: UploadGrant | undefined): Promise<{ record: SessionRecord; workflow: Workflow }> {
  if (!grant || grant.session_token !== ctx.params.token) throw STALE();
  const record = await loadSession(deps.store, grant.session_id);
  if (!record) throw EXPIRED();
  if (record.status !== 'In Progress' || captureWindowOver(record, Date.now(), deps.config.captureWindowMs)) {
    throw record.status === 'Approved' || record.status === 'Declined' || record.status === 'In Review' ? STALE() : EXPIRED();
  }
  if (record.upload_id !== grantId) throw STALE();
  const workflow = deps.workflows.get(record.workflow_id);
  // The workflow was removed from the file since the session began: nothing sensible to run.
  if (!workflow) throw EXPIRED();
  return { record, workflow };
}

export async function claimUpload(deps: VerifierDeps, ctx: Context): Promise<ClaimedUpload> {
  const grantId = grantIdOf(ctx);
  const grant = await takeGrant(deps.store, grantId);
  const { record, workflow } = await sessionForGrant(deps, ctx, grantId, grant);
  // Spent with the grant; only challenge workflows have one to read.
  const challenge = usesChallenge(workflow) ? await deps.store.take<Challenge>(K.challenge(grantId)) : undefined;
  return { grantId, grant: grant!, record, workflow, challenge };
}
