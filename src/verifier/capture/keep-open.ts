// When the capture cannot be judged yet (a refused capture with attempts left, or a busy engine),
// the attempt stays open with a fresh grant for the page's next upload.
import type { VerifierDeps } from '../deps.ts';
import { countRefusedCapture } from '../sessions/lifecycle.ts';
import { updateSession } from '../sessions/transition.ts';
import type { ClaimedUpload } from './claim-upload.ts';
import { EXPIRED } from './claim-upload.ts';
import { newUploadId, saveGrant } from './upload-grant.ts';

export async function reissueGrant(deps: VerifierDeps, claimed: ClaimedUpload, countAsAttempt: boolean): Promise<{ uploadToken: string; attemptsLeft: number }> {
  const id = newUploadId();
  const change = countAsAttempt ? countRefusedCapture(id) : (r: typeof claimed.record) => (r.status === 'In Progress' ? { ...r, upload_id: id } : undefined);
  const result = await updateSession(deps, claimed.record.session_id, change);
  if (!result?.changed) throw EXPIRED();
  const { record } = result;
  const remaining = (record.opened_at ?? Date.now()) + deps.config.captureWindowMs - Date.now();
  await saveGrant(deps.store, id, claimed.grant, Math.max(1000, remaining));
  return { uploadToken: id, attemptsLeft: Math.max(0, claimed.workflow.max_capture_attempts - record.capture_attempts) };
}
