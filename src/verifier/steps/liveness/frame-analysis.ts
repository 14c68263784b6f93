// The face engine on frames of a challenge recording. A frame without a usable face is not an
// error (null); a full engine queue is EngineBusy (the page gets a fresh grant and retries).
import { isFaceError } from '../../../face/index.ts';
import type { FaceAnalysis } from '../../../face/index.ts';
import { analyzeRecording, type PoseSample } from '../../../liveness/index.ts';
import { EngineBusy } from '../../capture/analyse-capture.ts';
import type { BurstFrame, StepInput } from '../types.ts';

/** Frames in flight per session: a recording never takes the whole engine queue. */
const CONCURRENCY = 2;

export async function analyseFrame(input: StepInput, frame: BurstFrame): Promise<FaceAnalysis | null> {
  try {
    return await input.deps.face.analyze(frame.bytes, { qualityGate: false, minFaceSize: 40 });
  } catch (err) {
    if (!isFaceError(err)) throw err;
    if (err.code === 'BUSY') throw new EngineBusy();
    return null;
  }
}

/** Every frame's landmarks, pose and embedding; null when a frame does not decode. */
export async function analyseRecording(input: StepInput, frames: readonly BurstFrame[]): Promise<PoseSample[] | null> {
  try {
    return await analyzeRecording(input.deps.face, frames, { concurrency: CONCURRENCY });
  } catch (err) {
    if (!isFaceError(err)) throw err;
    if (err.code === 'BUSY') throw new EngineBusy();
    return null;
  }
}
