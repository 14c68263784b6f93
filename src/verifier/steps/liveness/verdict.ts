// A liveness result becomes the session's LIVENESS block. The library's verdict warnings are
// replaced by ours (workflow thresholds); its signal warnings are kept.
import type { LivenessCheck, Warning } from '../../../didit/index.ts';
import type { Quality, Pose } from '../../../face/index.ts';
import type { LivenessResult, LivenessWarning } from '../../../liveness/index.ts';
import type { StepInput } from '../types.ts';
import { statusFor, statusForRisk } from '../types.ts';
import { warning } from '../warnings.ts';

export const LIVENESS_NODE = 'liveness_1';

/** A method's LIVENESS block, and the applicable signals' scores behind it (for the field report). */
export type LivenessOutcome = { check: LivenessCheck; signals: Record<string, number> | null };

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** 0–100 from the engine's quality measures: sharpness, exposure, contrast and pose (reported as face_quality). */
export function faceQualityScore(q: Quality, pose: Pose): number {
  const sharp = clamp01(Math.log10(Math.max(1, q.sharpness)) / Math.log10(300));
  const exposure = clamp01(1 - Math.abs(q.brightness - 0.55) / 0.45);
  const contrast = clamp01(q.contrast / 0.15);
  const frontal = clamp01(1 - Math.max(Math.abs(pose.yaw) / 40, Math.abs(pose.pitch) / 35));
  return Math.round(100 * (0.3 * sharp + 0.25 * exposure + 0.2 * contrast + 0.25 * frontal));
}

export function livenessCheck(input: StepInput, status: LivenessCheck['status'], score: number, warnings: Warning[]): LivenessCheck {
  const q = input.analysis.face.quality;
  return {
    node_id: LIVENESS_NODE,
    status,
    method: input.workflow.liveness!.method,
    score,
    reference_image: input.media.capture,
    video_url: null,
    age_estimation: null,
    face_quality: faceQualityScore(q, input.analysis.face.pose),
    face_luminance: Math.round(q.brightness * 100),
    warnings,
  };
}

/** Declined before any signal could run: nothing (or nothing usable) to judge. */
export function declined(input: StepInput, risk: string, additional: Record<string, unknown> | null = null): LivenessOutcome {
  return { check: livenessCheck(input, 'Declined', 0, [warning('LIVENESS', risk, 'error', LIVENESS_NODE, additional)]), signals: null };
}

/** A challenge refused before its frames were looked at (expired, replayed, another challenge's, too late). */
export function refusedChallenge(input: StepInput, w: LivenessWarning): LivenessOutcome {
  return { check: livenessCheck(input, 'Declined', 0, [{ ...w, node_id: LIVENESS_NODE }]), signals: null };
}

const VERDICT_RISKS = new Set(['LIVENESS_FACE_ATTACK', 'LOW_LIVENESS_SCORE']);

export function verdictOf(input: StepInput, r: LivenessResult): LivenessOutcome {
  const thresholds = input.workflow.liveness!;
  const warnings: Warning[] = r.warnings.filter((w) => !VERDICT_RISKS.has(w.risk)).map((w) => ({ ...w, node_id: LIVENESS_NODE }));
  let status = statusFor(r.score, thresholds);
  if (r.attack) {
    status = statusForRisk(input.workflow, 'LIVENESS_FACE_ATTACK');
    warnings.push(warning('LIVENESS', 'LIVENESS_FACE_ATTACK', 'error', LIVENESS_NODE, { score: r.score, signals: r.applied }));
  } else if (status !== 'Approved') {
    warnings.push(warning('LIVENESS', 'LOW_LIVENESS_SCORE', status === 'Declined' ? 'error' : 'warning', LIVENESS_NODE, { score: r.score }));
  }
  const signals = Object.fromEntries(r.signals.filter((x) => x.applies).map((x) => [x.signal, Math.round(x.score * 1000) / 1000]));
  return { check: livenessCheck(input, status, r.score, warnings), signals };
}
