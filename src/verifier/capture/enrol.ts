// Step 7 (kyc workflows): an Approved enrolment stores the face template for the session's
// vendor_data; one that went to review keeps its sealed template on the session until an
// operator decides (api/update-status.ts enrols it on approval).
import { enrolTemplate, sealTemplate } from '../../face/index.ts';
import type { FaceAnalysis } from '../../face/index.ts';
import type { Store } from '../../store/index.ts';
import type { VerifierDeps } from '../deps.ts';
import { K } from '../keys.ts';
import type { SessionRecord } from '../sessions/types.ts';
import type { StoredTemplate } from '../templates.ts';
import { saveTemplate } from '../templates.ts';
import type { ClaimedUpload } from './claim-upload.ts';
import type { Verdict } from './judge.ts';

/** The sealed template a kyc capture leaves on the session while it waits for review. */
export function pendingTemplateFor(deps: VerifierDeps, claimed: ClaimedUpload, verdict: Verdict, analysis: FaceAnalysis): string | null {
  if (claimed.workflow.workflow_type !== 'kyc' || verdict.status !== 'In Review' || claimed.record.vendor_data === null) return null;
  return sealTemplate(enrolTemplate([analysis]), deps.config.templateKeyring);
}

export async function enrolIfApproved(deps: VerifierDeps, record: SessionRecord, analysis: FaceAnalysis): Promise<void> {
  if (record.workflow_type !== 'kyc' || record.status !== 'Approved') return;
  if (record.vendor_data === null) {
    deps.log.warn({ session_id: record.session_id }, 'kyc session approved without vendor_data: no template stored');
    return;
  }
  await saveTemplate(deps.store, deps.config.templateKeyring, record.vendor_data, [analysis], record.session_id);
}

/** An operator approved a kyc session that was waiting for review: its template becomes the enrolment. */
export async function enrolPending(store: Store, record: SessionRecord): Promise<boolean> {
  if (record.workflow_type !== 'kyc' || record.status !== 'Approved' || !record.pending_template || record.vendor_data === null) return false;
  const stored: StoredTemplate = { sealed: record.pending_template, source_session_id: record.session_id, images: 1, created_at: new Date().toISOString() };
  await store.set(K.template(record.vendor_data), stored);
  return true;
}
