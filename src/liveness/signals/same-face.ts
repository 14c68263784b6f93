/**
 * same_face for a challenge recording: the face that answers the challenge is the face of the
 * capture still (the one the face match judges). Without it, a photo could pass the face match
 * while someone else's live face answers the challenge.
 */
import { cosine, similarityFromCosine } from '../../face/compare.ts';
import { clamp01, ramp } from '../image.ts';
import type { SignalResult } from '../types.ts';
import { livenessWarning } from '../warnings.ts';

/** Face engine similarity (0–100): at or below `different` another person, from `same` the same one. */
export const SAME_FACE = { different: 45, same: 60 } as const;

/** The lowest similarity of the recording's faces to the reference decides (one swapped frame is enough). */
export function sameFaceSignal(reference: ArrayLike<number> | null | undefined, embeddings: readonly ArrayLike<number>[]): SignalResult {
  if (!reference || !embeddings.length) return { signal: 'same_face', applies: false, score: 1, reason: 'no embeddings given' };
  const sims = embeddings.map((e) => 100 * similarityFromCosine(cosine(e, reference)));
  const low = Math.min(...sims);
  const score = clamp01(0.03 + 0.97 * ramp(low, SAME_FACE.different, SAME_FACE.same));
  const r: SignalResult = {
    signal: 'same_face', applies: true, score: Math.round(score * 1000) / 1000, details: { lowestSimilarity: Math.round(low * 10) / 10, frames: embeddings.length },
    reason: score >= 0.5 ? 'the recording shows the face of the still' : 'the recording shows another face than the still',
  };
  if (score < 0.5) r.warning = livenessWarning('FACE_CHANGED', 'error', { lowestSimilarity: Math.round(low * 10) / 10 });
  return r;
}
