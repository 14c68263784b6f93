// FLASHING: the page showed the server's colour sequence and recorded the face (320×240, 15 fps).
// The face engine finds the face in three frames of the recording (end of the black lead-in,
// middle, end): the middle one places the face for the colour fit, and all three must be the face
// of the still the match judged (same_face), or a photo could pass the match while another live
// face answers the colours. The signals run in a liveness worker.
import type { FaceAnalysis } from '../../../face/index.ts';
import type { FlashingChallenge } from '../../../liveness/index.ts';
import type { BurstFrame, StepInput } from '../types.ts';
import { useChallenge } from './challenge-use.ts';
import { analyseFrame } from './frame-analysis.ts';
import { declined, refusedChallenge, verdictOf } from './verdict.ts';
import type { LivenessOutcome } from './verdict.ts';
import { runLiveness } from './workers.ts';

function probeFrames(ch: FlashingChallenge, frames: readonly BurstFrame[]): BurstFrame[] {
  const lead = frames.filter((f) => f.t < ch.leadInMs).at(-1) ?? frames[0]!;
  return [frames[Math.floor(frames.length / 2)]!, lead, frames.at(-1)!];
}

export async function flashing(input: StepInput): Promise<LivenessOutcome> {
  const rec = input.capture.recording;
  if (!rec) return declined(input, 'LIVENESS_RECORDING_MISSING');
  const use = await useChallenge(input, rec.challengeId);
  if (!use.ok) return refusedChallenge(input, use.warning);
  const ch = use.challenge as FlashingChallenge;

  const found = (await Promise.all(probeFrames(ch, rec.frames).map((f) => analyseFrame(input, f)))).filter((a): a is FaceAnalysis => !!a);
  if (!found.length) return declined(input, 'LIVENESS_RECORDING_NO_FACE');
  const { box, landmarks } = input.analysis.face;
  const r = await runLiveness({
    kind: 'FLASHING',
    challenge: ch,
    still: input.capture.image,
    stillFace: { box, landmarks },
    frames: rec.frames,
    face: { box: found[0]!.face.box, landmarks: found[0]!.face.landmarks },
    embeddings: found.map((a) => a.embedding),
    reference: input.analysis.embedding,
  });
  return r ? verdictOf(input, r) : declined(input, 'LIVENESS_RECORDING_INVALID');
}
