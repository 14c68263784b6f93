// ACTIVE_3D: the page asked for the server's head turns and recorded them (640×480, 5 fps). The
// face engine analyses every frame (≈ 2 s per recording on two cores: the method's cost); the
// track is then judged in a liveness worker: the turns in order and in time, 3D parallax, and
// the same face throughout and as the still.
import type { Active3dChallenge } from '../../../liveness/index.ts';
import type { StepInput } from '../types.ts';
import { useChallenge } from './challenge-use.ts';
import { analyseRecording } from './frame-analysis.ts';
import { declined, refusedChallenge, verdictOf } from './verdict.ts';
import type { LivenessOutcome } from './verdict.ts';
import { runLiveness } from './workers.ts';

export async function active3d(input: StepInput): Promise<LivenessOutcome> {
  const rec = input.capture.recording;
  if (!rec) return declined(input, 'LIVENESS_RECORDING_MISSING');
  const use = await useChallenge(input, rec.challengeId);
  if (!use.ok) return refusedChallenge(input, use.warning);

  const samples = await analyseRecording(input, rec.frames);
  if (!samples) return declined(input, 'LIVENESS_RECORDING_INVALID');
  const { box, landmarks } = input.analysis.face;
  const r = await runLiveness({
    kind: 'ACTIVE_3D',
    challenge: use.challenge as Active3dChallenge,
    still: input.capture.image,
    stillFace: { box, landmarks },
    samples,
    reference: input.analysis.embedding,
  });
  return r ? verdictOf(input, r) : declined(input, 'LIVENESS_RECORDING_INVALID');
}
