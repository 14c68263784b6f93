// same_face for challenge recordings: the face answering the challenge must be the still's face.
import { describe, expect, it } from 'vitest';
import { flashingLiveness } from '../../src/liveness/methods.ts';
import { sameFaceSignal, SAME_FACE } from '../../src/liveness/signals/same-face.ts';
import { generateFlashingSample } from '../synthetic/flashing.ts';
import { loadFaceSources } from '../synthetic/head.ts';
import { similarityFromCosine } from '../../src/face/compare.ts';

/** A unit vector at a chosen cosine to `ref` (both in 128-d). */
function atCosine(ref: number[], cos: number): number[] {
  const other = ref.map((_, i) => (i % 2 ? 1 : -1) * ref[(i + 1) % ref.length]!);
  const dot = other.reduce((s, v, i) => s + v * ref[i]!, 0);
  const orth = other.map((v, i) => v - dot * ref[i]!);
  const n = Math.hypot(...orth);
  return ref.map((v, i) => cos * v + Math.sqrt(1 - cos * cos) * (orth[i]! / n));
}
const unit = (() => {
  const v = Array.from({ length: 128 }, (_, i) => Math.sin(i * 1.7) + 0.1);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
})();
/** The cosine whose face-engine similarity is `score`. */
function cosineFor(score: number): number {
  let lo = 0, hi = 1;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (100 * similarityFromCosine(mid) < score) lo = mid; else hi = mid;
  }
  return hi;
}

describe('sameFaceSignal', () => {
  it('does not apply without a reference or embeddings', () => {
    expect(sameFaceSignal(null, [unit]).applies).toBe(false);
    expect(sameFaceSignal(unit, []).applies).toBe(false);
  });

  it('scores the same face 1 and another face low with FACE_CHANGED; the lowest frame decides', () => {
    const same = sameFaceSignal(unit, [atCosine(unit, cosineFor(80)), atCosine(unit, cosineFor(75))]);
    expect(same).toMatchObject({ signal: 'same_face', applies: true, score: 1 });
    expect(same.warning).toBeUndefined();
    const swapped = sameFaceSignal(unit, [atCosine(unit, cosineFor(80)), atCosine(unit, cosineFor(SAME_FACE.different - 5))]);
    expect(swapped.score).toBeLessThan(0.05);
    expect(swapped.warning?.risk).toBe('FACE_CHANGED');
    const between = sameFaceSignal(unit, [atCosine(unit, cosineFor((SAME_FACE.different + SAME_FACE.same) / 2))]);
    expect(between.score).toBeGreaterThan(0.3);
    expect(between.score).toBeLessThan(0.7);
  });

  it('turns a genuine FLASHING answer into an attack when its face is not the still\'s', async () => {
    const faces = await loadFaceSources();
    const s = await generateFlashingSample('bona_fide', 5, faces);
    const input = { challenge: s.challenge, frames: s.frames, face: s.face };
    const own = flashingLiveness({ ...input, reference: unit, embeddings: [atCosine(unit, cosineFor(85))] });
    expect(own.live).toBe(true);
    const other = flashingLiveness({ ...input, reference: unit, embeddings: [atCosine(unit, cosineFor(30))] });
    expect(other.attack).toBe(true);
    expect(other.warnings.map((w) => w.risk)).toContain('FACE_CHANGED');
  });
});
