// Step 5b: the face against every other face the service holds (1:N, faces/search-index.ts), at
// the workflow's duplicate_threshold, by default its face-match decline threshold (the default
// one for a workflow without FACE_MATCH).
// - On the blocklist: Declined with FACE_IN_BLOCKLIST, enrolment or sign-in alike.
// - An enrolment (kyc) whose face is already enrolled for another vendor_data: In Review with
//   DUPLICATED_FACE, whose additional_data names that account. It is for the operator, through
//   the decision endpoint; the hosted page and the IdP show the user only the status.
import { DEFAULT_THRESHOLDS } from '../../face/index.ts';
import type { FaceAnalysis } from '../../face/index.ts';
import type { VerifierDeps } from '../deps.ts';
import type { Workflow } from '../workflows.ts';
import type { ClaimedUpload } from './claim-upload.ts';
import { flagVerdict } from './flag.ts';
import type { Verdict } from './judge.ts';

export const FACE_IN_BLOCKLIST = 'FACE_IN_BLOCKLIST';
export const DUPLICATED_FACE = 'DUPLICATED_FACE';

export function duplicateThreshold(workflow: Workflow): number {
  return workflow.duplicate_threshold ?? workflow.face_match?.decline_threshold ?? DEFAULT_THRESHOLDS.decline;
}

export async function screenFace(deps: Pick<VerifierDeps, 'faces'>, claimed: ClaimedUpload, verdict: Verdict, analysis: FaceAnalysis): Promise<Verdict> {
  const above = duplicateThreshold(claimed.workflow);
  const blocked = await deps.faces.searchBlocked(analysis.embedding, above);
  if (blocked) return flagVerdict(verdict, FACE_IN_BLOCKLIST, 'Declined', { blocklist_entry_id: blocked.meta.entry_id, session_id: blocked.meta.session_id, score: blocked.score });

  const record = claimed.record;
  if (claimed.workflow.workflow_type !== 'kyc' || record.vendor_data === null || verdict.status === 'Declined') return verdict;
  const twin = await deps.faces.searchEnrolled(analysis.embedding, above, record.vendor_data);
  if (!twin) return verdict;
  return flagVerdict(verdict, DUPLICATED_FACE, 'In Review', { vendor_data: twin.meta.vendor_data, session_id: twin.meta.source_session_id, score: twin.score });
}
