// LIVENESS, minimal until presentation-attack detection lands (issue 6).
//
// What it checks today: the face engine found exactly one face, large and sharp enough, lit and
// posed well enough (a failed check never reaches this step: the capture is refused or declined).
// The score is therefore a CAPTURE-QUALITY score, not evidence of a live person. It does NOT
// resist a printed photo, a screen replay, a mask or a deepfake, and every result says so in a
// PRESENTATION_ATTACK_DETECTION_NOT_IMPLEMENTED warning.
//
// Issue 6 plugs real methods into LIVENESS_METHODS below: each gets the same StepInput (with
// frames and the challenge answer added to `capture`) and returns the liveness block.
import type { LivenessCheck, LivenessMethod } from '../../didit/index.ts';
import type { Quality, Pose } from '../../face/index.ts';
import type { StepInput } from './types.ts';
import { statusFor } from './types.ts';
import { warning } from './warnings.ts';

export const LIVENESS_NODE = 'liveness_1';

type LivenessMethodImpl = (input: StepInput) => Promise<LivenessCheck>;

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** 0–100 from the engine's quality measures: sharpness, exposure, contrast and pose. */
export function faceQualityScore(q: Quality, pose: Pose): number {
  const sharp = clamp01(Math.log10(Math.max(1, q.sharpness)) / Math.log10(300));
  const exposure = clamp01(1 - Math.abs(q.brightness - 0.55) / 0.45);
  const contrast = clamp01(q.contrast / 0.15);
  const frontal = clamp01(1 - Math.max(Math.abs(pose.yaw) / 40, Math.abs(pose.pitch) / 35));
  return Math.round(100 * (0.3 * sharp + 0.25 * exposure + 0.2 * contrast + 0.25 * frontal));
}

async function passiveQualityOnly(input: StepInput): Promise<LivenessCheck> {
  const { analysis, workflow } = input;
  const thresholds = workflow.liveness!;
  const score = faceQualityScore(analysis.face.quality, analysis.face.pose);
  const status = statusFor(score, thresholds);
  const warnings = [
    warning('LIVENESS', 'PRESENTATION_ATTACK_DETECTION_NOT_IMPLEMENTED', 'warning', LIVENESS_NODE, { checks: ['single_face', 'face_size', 'exposure', 'sharpness', 'pose'] }),
  ];
  if (status !== 'Approved') warnings.push(warning('LIVENESS', 'LOW_LIVENESS_SCORE', status === 'Declined' ? 'error' : 'warning', LIVENESS_NODE, { score }));
  return {
    node_id: LIVENESS_NODE,
    status,
    method: thresholds.method,
    score,
    reference_image: input.media.capture,
    video_url: null,
    age_estimation: null,
    face_quality: score,
    face_luminance: Math.round(analysis.face.quality.brightness * 100),
    warnings,
  };
}

/** The methods a workflow may name; the workflows loader refuses any other. */
export const LIVENESS_METHODS: Partial<Record<LivenessMethod, LivenessMethodImpl>> = {
  PASSIVE: passiveQualityOnly,
};

export const IMPLEMENTED_LIVENESS_METHODS = Object.keys(LIVENESS_METHODS) as LivenessMethod[];

export async function livenessStep(input: StepInput): Promise<LivenessCheck[]> {
  const impl = LIVENESS_METHODS[input.workflow.liveness!.method]!;
  return [await impl(input)];
}
