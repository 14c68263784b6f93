// Step 6: store the verdict (this is what sends the webhook). Refused when the attempt closed
// meanwhile (the capture window ran out while the face was being analysed).
import type { VerifierDeps } from '../deps.ts';
import { complete } from '../sessions/lifecycle.ts';
import { updateSession } from '../sessions/transition.ts';
import type { SessionRecord } from '../sessions/types.ts';
import type { ClaimedUpload } from './claim-upload.ts';
import { EXPIRED } from './claim-upload.ts';
import type { Verdict } from './judge.ts';

export async function commitVerdict(deps: VerifierDeps, claimed: ClaimedUpload, verdict: Verdict, media: string[], pendingTemplate: string | null, faceTemplate: string | null = null): Promise<SessionRecord> {
  const { status, liveness_checks, liveness_signals, face_matches, ip_analyses } = verdict;
  const result = await updateSession(deps, claimed.record.session_id, complete({ status, liveness_checks, liveness_signals, face_matches, ip_analyses, media, pending_template: pendingTemplate, face_template: faceTemplate }, deps.config.captureWindowMs));
  if (!result?.changed) throw EXPIRED();
  return result.record;
}
