// Step 3: the face engine looks at the capture. A capture it refuses (no face, several faces,
// too small, blurred, badly lit, not decodable) is not an error: it becomes a risk that the next
// step turns into "try again" or, after the workflow's last attempt, into the verdict.
import { isFaceError } from '../../face/index.ts';
import type { FaceAnalysis } from '../../face/index.ts';
import type { VerifierDeps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import type { Capture } from '../steps/types.ts';

export type Refusal = { risk: string; reason: 'no_face' | 'multiple_faces' | 'quality' };

const REFUSALS: Record<string, Refusal> = {
  NO_FACE_DETECTED: { risk: 'NO_FACE_DETECTED', reason: 'no_face' },
  MULTIPLE_FACES: { risk: 'MULTIPLE_FACES', reason: 'multiple_faces' },
  FACE_TOO_SMALL: { risk: 'LOW_FACE_QUALITY', reason: 'quality' },
  LOW_QUALITY: { risk: 'LOW_FACE_QUALITY', reason: 'quality' },
  IMAGE_INVALID: { risk: 'INVALID_IMAGE', reason: 'quality' },
  IMAGE_TOO_LARGE: { risk: 'INVALID_IMAGE', reason: 'quality' },
};

export class EngineBusy extends Error {}

export async function analyseCapture(deps: Pick<VerifierDeps, 'face'>, capture: Capture): Promise<{ analysis: FaceAnalysis } | { refusal: Refusal }> {
  try {
    return { analysis: await deps.face.analyze(capture.image) };
  } catch (err) {
    if (!isFaceError(err)) throw err;
    if (err.code === 'BUSY') throw new EngineBusy();
    const refusal = REFUSALS[err.code];
    if (!refusal) throw new ApiError(500, { outcome: 'error', detail: 'The capture could not be processed.' });
    return { refusal };
  }
}
