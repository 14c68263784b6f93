// LIVENESS: presentation-attack detection by src/liveness (docs/liveness.md).
//
// PASSIVE: the still the face engine analysed, the engine's box and landmarks of its face, and the
// burst the page recorded around the still go to passiveLiveness. Its `attack` (score ≤ 30) is the
// LIVENESS_FACE_ATTACK risk (auto-declined by default); otherwise the score is judged against the
// workflow's own review/decline thresholds (LOW_LIVENESS_SCORE), not the library's default.
// A still alone cannot prove liveness (a photo of a photo is a good still), so an upload without
// a burst is declined with LIVENESS_BURST_MISSING.
import type { LivenessCheck, LivenessMethod, Warning } from '../../didit/index.ts';
import type { Quality, Pose } from '../../face/index.ts';
import type { LivenessResult } from '../../liveness/index.ts';
import { LivenessBusyError, LivenessPool } from '../../liveness/pool.ts';
import { EngineBusy } from '../capture/analyse-capture.ts';
import type { StepInput } from './types.ts';
import { statusFor, statusForRisk } from './types.ts';
import { warning } from './warnings.ts';

export const LIVENESS_NODE = 'liveness_1';

type LivenessMethodImpl = (input: StepInput) => Promise<LivenessCheck>;

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** 0–100 from the engine's quality measures: sharpness, exposure, contrast and pose (reported as face_quality). */
export function faceQualityScore(q: Quality, pose: Pose): number {
  const sharp = clamp01(Math.log10(Math.max(1, q.sharpness)) / Math.log10(300));
  const exposure = clamp01(1 - Math.abs(q.brightness - 0.55) / 0.45);
  const contrast = clamp01(q.contrast / 0.15);
  const frontal = clamp01(1 - Math.max(Math.abs(pose.yaw) / 40, Math.abs(pose.pitch) / 35));
  return Math.round(100 * (0.3 * sharp + 0.25 * exposure + 0.2 * contrast + 0.25 * frontal));
}

/** The library's verdict warnings are replaced by ours (workflow thresholds); signal warnings are kept. */
const VERDICT_RISKS = new Set(['LIVENESS_FACE_ATTACK', 'LOW_LIVENESS_SCORE']);

function check(input: StepInput, status: LivenessCheck['status'], score: number, warnings: Warning[]): LivenessCheck {
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

// Decoding 13 JPEGs and tracking points costs ≈ 130 ms of CPU: done in worker threads, so the
// HTTP event loop (and the IdP sharing the process) never waits on it. Created on first use.
let pool: LivenessPool | undefined;

async function runPassive(input: StepInput): Promise<LivenessResult | null> {
  const burst = input.capture.burst!;
  const { box, landmarks } = input.analysis.face;
  pool ??= new LivenessPool();
  try {
    return await pool.run({ still: input.capture.image, frames: burst.frames, face: { box, landmarks }, captureIndex: burst.captureIndex });
  } catch (err) {
    if (err instanceof LivenessBusyError) throw new EngineBusy();
    return null; // a frame that does not decode: nothing to judge
  }
}

async function passive(input: StepInput): Promise<LivenessCheck> {
  const thresholds = input.workflow.liveness!;
  if (!input.capture.burst) return check(input, 'Declined', 0, [warning('LIVENESS', 'LIVENESS_BURST_MISSING', 'error', LIVENESS_NODE)]);
  const r = await runPassive(input);
  if (!r) return check(input, 'Declined', 0, [warning('LIVENESS', 'LIVENESS_BURST_INVALID', 'error', LIVENESS_NODE)]);

  const warnings: Warning[] = r.warnings
    .filter((w) => !VERDICT_RISKS.has(w.risk))
    .map((w) => ({ ...w, node_id: LIVENESS_NODE }));
  let status = statusFor(r.score, thresholds);
  if (r.attack) {
    status = statusForRisk(input.workflow, 'LIVENESS_FACE_ATTACK');
    warnings.push(warning('LIVENESS', 'LIVENESS_FACE_ATTACK', 'error', LIVENESS_NODE, { score: r.score, signals: r.applied }));
  } else if (status !== 'Approved') {
    warnings.push(warning('LIVENESS', 'LOW_LIVENESS_SCORE', status === 'Declined' ? 'error' : 'warning', LIVENESS_NODE, { score: r.score }));
  }
  return check(input, status, r.score, warnings);
}

/** The methods a workflow may name; the workflows loader refuses any other. */
export const LIVENESS_METHODS: Partial<Record<LivenessMethod, LivenessMethodImpl>> = {
  PASSIVE: passive,
};

export const IMPLEMENTED_LIVENESS_METHODS = Object.keys(LIVENESS_METHODS) as LivenessMethod[];

export async function livenessStep(input: StepInput): Promise<LivenessCheck[]> {
  const impl = LIVENESS_METHODS[input.workflow.liveness!.method]!;
  return [await impl(input)];
}
