// PASSIVE: the still the face engine analysed, the engine's box and landmarks of its face, and the
// burst the page recorded around the still go to passiveLiveness. A still alone cannot prove
// liveness (a photo of a photo is a good still), so an upload without a burst is declined with
// LIVENESS_BURST_MISSING. With screen light (the workflow's liveness.screen_light, on by default)
// the burst answers a server-chosen, single-use light pattern: the upload must name the challenge
// issued to its grant (challenge-use.ts, as FLASHING), and the pattern goes to the screen_light signal.
import { livenessWarning, type ScreenLightChallenge } from '../../../liveness/index.ts';
import { usesScreenLight } from '../../workflows.ts';
import type { StepInput } from '../types.ts';
import { useChallenge } from './challenge-use.ts';
import { declined, refusedChallenge, verdictOf } from './verdict.ts';
import type { LivenessOutcome } from './verdict.ts';
import { runLiveness } from './workers.ts';

export async function passive(input: StepInput): Promise<LivenessOutcome> {
  const burst = input.capture.burst;
  if (!burst) return declined(input, 'LIVENESS_BURST_MISSING');
  let screenPattern: number[] | undefined;
  if (usesScreenLight(input.workflow)) {
    if (burst.challengeId === undefined) {
      return refusedChallenge(input, livenessWarning('CHALLENGE_INVALID', 'error', { reason: 'the burst names no screen-light challenge' }));
    }
    const use = await useChallenge(input, burst.challengeId);
    if (!use.ok) return refusedChallenge(input, use.warning);
    screenPattern = (use.challenge as ScreenLightChallenge).pattern;
  }
  const { box, landmarks } = input.analysis.face;
  const r = await runLiveness({ still: input.capture.image, frames: burst.frames, face: { box, landmarks }, captureIndex: burst.captureIndex, screenPattern });
  return r ? verdictOf(input, r) : declined(input, 'LIVENESS_BURST_INVALID');
}
