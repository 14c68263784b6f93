// PASSIVE: the still the face engine analysed, the engine's box and landmarks of its face, and the
// burst the page recorded around the still go to passiveLiveness. A still alone cannot prove
// liveness (a photo of a photo is a good still), so an upload without a burst is declined with
// LIVENESS_BURST_MISSING.
import type { LivenessCheck } from '../../../didit/index.ts';
import type { StepInput } from '../types.ts';
import { declined, verdictOf } from './verdict.ts';
import { runLiveness } from './workers.ts';

export async function passive(input: StepInput): Promise<LivenessCheck> {
  const burst = input.capture.burst;
  if (!burst) return declined(input, 'LIVENESS_BURST_MISSING');
  const { box, landmarks } = input.analysis.face;
  const r = await runLiveness({ still: input.capture.image, frames: burst.frames, face: { box, landmarks }, captureIndex: burst.captureIndex });
  return r ? verdictOf(input, r) : declined(input, 'LIVENESS_BURST_INVALID');
}
