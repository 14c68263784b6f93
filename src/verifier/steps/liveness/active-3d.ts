// ACTIVE_3D: the page asked for the server's head turns and recorded them (640×480, 5 fps). The
// face engine analyses every frame (≈ 2 s per recording on two cores: the method's cost); the
// track is then judged in a liveness worker: the turns in order and in time, 3D parallax, and
// the same face throughout and as the still.
import type { LivenessCheck } from '../../../didit/index.ts';
import type { Active3dChallenge, PoseSample } from '../../../liveness/index.ts';
import type { StepInput } from '../types.ts';
import { useChallenge } from './challenge-use.ts';
import { analyseFrame } from './flashing.ts';
import { declined, refusedChallenge, verdictOf } from './verdict.ts';
import { runLiveness } from './workers.ts';

/** Frames in flight per session: a recording never takes the whole engine queue. */
const CONCURRENCY = 2;

async function analyseRecording(input: StepInput, frames: NonNullable<StepInput['capture']['recording']>['frames']): Promise<PoseSample[]> {
  const out: PoseSample[] = new Array(frames.length);
  let next = 0;
  const worker = async () => {
    while (next < frames.length) {
      const i = next++;
      const a = await analyseFrame(input, frames[i]!);
      out[i] = { t: frames[i]!.t, face: a ? { landmarks: a.face.landmarks, pose: a.face.pose, embedding: a.embedding } : null };
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, frames.length) }, worker));
  return out;
}

export async function active3d(input: StepInput): Promise<LivenessCheck> {
  const rec = input.capture.recording;
  if (!rec) return declined(input, 'LIVENESS_RECORDING_MISSING');
  const use = await useChallenge(input, rec.challengeId);
  if (!use.ok) return refusedChallenge(input, use.warning);

  const samples = await analyseRecording(input, rec.frames);
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
