// The workflow's features, run in a fixed order on one capture, and the rule that turns their
// statuses into the session's: any Declined declines, else any In Review asks for review, else
// Approved.
import type { FeatureStatus, LivenessCheck, SessionStatus } from '../../didit/index.ts';
import { observesLiveness } from '../workflows.ts';
import type { Workflow } from '../workflows.ts';
import { FACE_MATCH_NODE, faceMatchStep } from './face-match.ts';
import { ipAnalysisStep } from './ip-analysis.ts';
import { LIVENESS_NODE, livenessStep } from './liveness/index.ts';
import type { FeatureBlocks, StepInput } from './types.ts';
import { statusForRisk } from './types.ts';
import { warning } from './warnings.ts';

export async function runFeatureSteps(input: StepInput): Promise<FeatureBlocks> {
  const has = (f: string) => input.workflow.features.includes(f as never);
  const liveness = has('LIVENESS') ? await livenessStep(input) : null;
  return {
    liveness_checks: liveness ? [observed(input.workflow, liveness.check)] : null,
    liveness_signals: liveness?.signals ?? null,
    face_matches: has('FACE_MATCH') ? await faceMatchStep(input) : null,
    ip_analyses: has('IP_ANALYSIS') ? await ipAnalysisStep(input) : null,
  };
}

/** Observe mode: the LIVENESS block says it did not decide (its own status is kept for the report). */
function observed(workflow: Workflow, check: LivenessCheck): LivenessCheck {
  if (!observesLiveness(workflow)) return check;
  return { ...check, warnings: [...check.warnings, warning('LIVENESS', 'LIVENESS_OBSERVED', 'information', LIVENESS_NODE, { status: check.status })] };
}

/**
 * Any deciding block Declined declines, else any In Review asks for review, else Approved. In
 * observe mode the LIVENESS block is reported but does not decide (only face match does).
 */
export function sessionStatusOf(blocks: FeatureBlocks, workflow: Workflow): SessionStatus {
  const liveness = observesLiveness(workflow) ? [] : (blocks.liveness_checks ?? []);
  const statuses: FeatureStatus[] = [...liveness, ...(blocks.face_matches ?? []), ...(blocks.ip_analyses ?? [])].map((b) => b.status);
  if (statuses.includes('Declined')) return 'Declined';
  if (statuses.includes('In Review') || statuses.includes('Not Finished')) return 'In Review';
  return 'Approved';
}

/**
 * The blocks of a capture that never yielded a usable face (after the workflow's last allowed
 * attempt): the face features carry the risk and no score; IP analysis still records the client.
 */
export async function blocksForUnusableCapture(input: Pick<StepInput, 'workflow' | 'client' | 'media'>, risk: string): Promise<FeatureBlocks> {
  const { workflow } = input;
  const has = (f: string) => workflow.features.includes(f as never);
  const status = statusForRisk(workflow, risk);
  const logType = status === 'Declined' ? 'error' : 'warning';
  return {
    liveness_signals: null,
    liveness_checks: has('LIVENESS')
      ? [{
          node_id: LIVENESS_NODE,
          status,
          method: workflow.liveness!.method,
          score: null,
          reference_image: input.media.capture,
          video_url: null,
          age_estimation: null,
          face_quality: null,
          face_luminance: null,
          warnings: [warning('LIVENESS', risk, logType, LIVENESS_NODE)],
        }]
      : null,
    face_matches: has('FACE_MATCH')
      ? [{
          node_id: FACE_MATCH_NODE,
          status,
          score: null,
          source_image_session_id: null,
          source_image: input.media.reference,
          target_image: input.media.capture,
          warnings: [warning('FACE_MATCH', risk, logType, FACE_MATCH_NODE)],
        }]
      : null,
    ip_analyses: has('IP_ANALYSIS') ? await ipAnalysisStep(input) : null,
  };
}
