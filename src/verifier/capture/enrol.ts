// Step 6a (kyc workflows): an Approved enrolment claims the face template of the session's
// vendor_data before its verdict is stored (first enrolment wins); one that went to review keeps
// its sealed template on the session until an operator decides (api/update-status.ts enrols it on
// approval, if the vendor_data has no face by then).
import { enrolTemplate, sealTemplate } from '../../face/index.ts';
import type { FaceAnalysis } from '../../face/index.ts';
import type { Store } from '../../store/index.ts';
import type { VerifierDeps } from '../deps.ts';
import { K } from '../keys.ts';
import type { SessionRecord } from '../sessions/types.ts';
import type { StoredTemplate } from '../templates.ts';
import { claimTemplate } from '../templates.ts';
import { faceStored } from '../faces/changes.ts';
import { flagVerdict } from './flag.ts';
import type { ClaimedUpload } from './claim-upload.ts';
import type { Verdict } from './judge.ts';

/** The capture's face, sealed: kept on the session (for the blocklist) and, for a reviewed enrolment, its pending template. */
export function sealCapturedFace(deps: VerifierDeps, analysis: FaceAnalysis): string {
  return sealTemplate(enrolTemplate([analysis]), deps.config.templateKeyring);
}

/** The sealed template a kyc capture leaves on the session while it waits for review. */
export function pendingTemplateFor(claimed: ClaimedUpload, verdict: Verdict, sealedFace: string): string | null {
  if (claimed.workflow.workflow_type !== 'kyc' || verdict.status !== 'In Review' || claimed.record.vendor_data === null) return null;
  return sealedFace;
}

/**
 * Before an Approved kyc verdict is stored, it claims the vendor_data's template (set-if-absent).
 * When another enrolment has it already, the verdict becomes Declined with ALREADY_ENROLLED: an
 * Approved enrolment always means "this face is the account's", which the IdP relies on.
 */
export async function enrolIfApproved(deps: VerifierDeps, claimed: ClaimedUpload, verdict: Verdict, analysis: FaceAnalysis): Promise<{ verdict: Verdict; enrolled: boolean }> {
  const record = claimed.record;
  if (claimed.workflow.workflow_type !== 'kyc' || verdict.status !== 'Approved') return { verdict, enrolled: false };
  if (record.vendor_data === null) {
    deps.log.warn({ session_id: record.session_id }, 'kyc session approved without vendor_data: no template stored');
    return { verdict, enrolled: false };
  }
  if (await claimTemplate(deps.store, deps.config.templateKeyring, record.vendor_data, [analysis], record.session_id)) return { verdict, enrolled: true };
  deps.log.warn({ session_id: record.session_id }, 'kyc session approved for a vendor_data that already has a face: declined (ALREADY_ENROLLED)');
  return { verdict: alreadyEnrolled(verdict), enrolled: false };
}

/** The verdict, Declined, with ALREADY_ENROLLED on its first block (a kyc workflow has LIVENESS and/or IP_ANALYSIS). */
function alreadyEnrolled(verdict: Verdict): Verdict {
  return flagVerdict(verdict, 'ALREADY_ENROLLED', 'Declined');
}

/** An operator approved a kyc session that was waiting for review: its template becomes the enrolment. */
export async function enrolPending(store: Store, record: SessionRecord): Promise<boolean> {
  if (record.workflow_type !== 'kyc' || record.status !== 'Approved' || !record.pending_template || record.vendor_data === null) return false;
  const stored: StoredTemplate = { sealed: record.pending_template, source_session_id: record.session_id, images: 1, created_at: new Date().toISOString() };
  // First enrolment wins here too (update-status refuses to approve when a face exists; this closes the race).
  if (!(await store.setIfAbsent(K.template(record.vendor_data), stored))) return false;
  await faceStored(store, 'enrolled', record.vendor_data);
  return true;
}
