// FACE_MATCH: 1:1 between the capture and the reference face. The reference is the session's
// portrait_image (analysed and sealed at creation) when one was sent, else the template enrolled
// for the session's vendor_data by an Approved kyc session or the operator; neither means
// NO_REFERENCE_IMAGE.
import type { FaceMatch } from '../../didit/index.ts';
import { compare, isFaceError, isLegacyTemplate, openTemplate } from '../../face/index.ts';
import type { FaceTemplate } from '../../face/index.ts';
import { EngineBusy } from '../capture/analyse-capture.ts';
import { loadTemplate } from '../templates.ts';
import type { StepInput } from './types.ts';
import { statusFor, statusForRisk } from './types.ts';
import { warning } from './warnings.ts';

export const FACE_MATCH_NODE = 'face_match_1';

type Reference = { template: FaceTemplate; sourceSessionId: string | null } | { missing: 'NO_REFERENCE_IMAGE' | 'REFERENCE_UNUSABLE'; reason?: string };

async function findReference(input: StepInput): Promise<Reference> {
  const { session, deps } = input;
  const keyring = deps.config.templateKeyring;
  try {
    if (session.reference) return { template: openTemplate(String(session.reference.sealed), keyring), sourceSessionId: null };
    if (session.vendor_data === null) return { missing: 'NO_REFERENCE_IMAGE' };
    const stored = await loadTemplate(deps.store, session.vendor_data);
    if (!stored) return { missing: 'NO_REFERENCE_IMAGE' };
    return { template: openTemplate(stored.sealed, keyring), sourceSessionId: stored.source_session_id };
  } catch (err) {
    if (isFaceError(err)) return { missing: 'REFERENCE_UNUSABLE', reason: err.code };
    throw err;
  }
}

export async function faceMatchStep(input: StepInput): Promise<FaceMatch[]> {
  const { workflow, analysis, media } = input;
  const reference = await findReference(input);
  const base = { node_id: FACE_MATCH_NODE, source_image: media.reference, target_image: media.capture };

  if ('missing' in reference) {
    // An unusable enrolment is as good as none for the decision, and says why for the reviewer.
    const status = statusForRisk(workflow, 'NO_REFERENCE_IMAGE');
    const extra = reference.reason ? { reason: reference.reason } : null;
    return [{ ...base, status, score: null, source_image_session_id: null, warnings: [warning('FACE_MATCH', reference.missing, 'error', FACE_MATCH_NODE, extra)] }];
  }

  let probe = analysis;
  if (isLegacyTemplate(reference.template) && !analysis.legacy) {
    // Enrolled before the model upgrade: compare in the old model's space (its net runs only here).
    try {
      probe = await input.deps.face.analyze(input.capture.image, { legacyEmbedding: true });
    } catch (err) {
      if (!isFaceError(err)) throw err;
      if (err.code === 'BUSY') throw new EngineBusy();
      const status = statusForRisk(workflow, 'NO_REFERENCE_IMAGE');
      return [{ ...base, status, score: null, source_image_session_id: null, warnings: [warning('FACE_MATCH', 'REFERENCE_UNUSABLE', 'error', FACE_MATCH_NODE, { reason: err.code })] }];
    }
  }
  const thresholds = workflow.face_match!;
  const result = compare(reference.template, probe, { review: thresholds.review_threshold, decline: thresholds.decline_threshold });
  // A legacy template is judged by the old model's own thresholds (compare applied them): its scores are another scale.
  const status = isLegacyTemplate(reference.template) ? result.decision : statusFor(result.score, thresholds);
  const warnings = status === 'Approved' ? [] : [warning('FACE_MATCH', 'LOW_FACE_MATCH_SIMILARITY', status === 'Declined' ? 'error' : 'warning', FACE_MATCH_NODE, { score: result.score })];
  return [{ ...base, status, score: result.score, source_image_session_id: reference.sourceSessionId, warnings }];
}
