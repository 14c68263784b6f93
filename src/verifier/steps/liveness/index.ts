// LIVENESS: presentation-attack detection by src/liveness (docs/liveness.md), one file per method.
// Its `attack` (score ≤ 30) is the LIVENESS_FACE_ATTACK risk (auto-declined by default); otherwise
// the score is judged against the workflow's own review/decline thresholds (LOW_LIVENESS_SCORE).
// Then the injection signals (camera.ts: VIRTUAL_CAMERA), whatever the method.
import type { LivenessMethod } from '../../../didit/index.ts';
import type { StepInput } from '../types.ts';
import { active3d } from './active-3d.ts';
import { flashing } from './flashing.ts';
import { passive } from './passive.ts';
import { applyVirtualCamera, virtualCameraReason } from './camera.ts';
import type { LivenessOutcome } from './verdict.ts';

export { LIVENESS_NODE } from './verdict.ts';

const METHODS: Record<LivenessMethod, (input: StepInput) => Promise<LivenessOutcome>> = {
  PASSIVE: passive,
  FLASHING: flashing,
  ACTIVE_3D: active3d,
};

export async function livenessStep(input: StepInput): Promise<LivenessOutcome> {
  const { check, signals } = await METHODS[input.workflow.liveness!.method](input);
  const frozen = check.warnings.some((w) => w.risk === 'FROZEN_FRAMES');
  return { check: applyVirtualCamera(check, input.workflow, virtualCameraReason(input.capture.camera, frozen)), signals };
}
