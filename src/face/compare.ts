/**
 * 1:1 comparison of a reference (template, analysis or embedding) with a probe.
 *
 * similarity = clamp((cos − COS_FLOOR) / (1 − COS_FLOOR), 0, 1) of the L2-normalised embeddings,
 * score = 100 · similarity (2 decimals). COS_FLOOR is a property of the model: unrelated faces have
 * cosines around 0.8 with this descriptor, so the raw cosine would squeeze every answer into 80–100.
 *
 * Decision (same rule as the verifier's workflow thresholds):
 *   score > review → Approved;  decline < score ≤ review → In Review;  score ≤ decline → Declined.
 * Defaults come from the ROC in docs/face-engine.md (review: FMR ≤ 0.1 %, decline: FMR ≤ 1 %).
 */
import { FaceError } from './errors.ts';
import { EMBEDDING_SIZE, MODEL } from './model.ts';
import { assertCurrentModel, type FaceTemplate } from './template.ts';
import type { FaceAnalysis, ModelInfo } from './types.ts';

/** Cosine mapped to similarity 0. Changing it changes every score: tied to MODEL.version. */
export const COS_FLOOR = 0.75;

export interface Thresholds {
  /** Score (0–100) above which the decision is Approved. */
  review: number;
  /** Score (0–100) at or below which the decision is Declined. */
  decline: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({ review: 72, decline: 62 });

export type Decision = 'Approved' | 'In Review' | 'Declined';

export interface CompareResult {
  similarity: number;
  score: number;
  decision: Decision;
  /** True only when Approved. */
  match: boolean;
  /** The review threshold applied (score units). */
  threshold: number;
}

export type FaceVector = FaceTemplate | FaceAnalysis | Float32Array | readonly number[];

function vectorOf(x: FaceVector, what: string): ArrayLike<number> {
  if (x instanceof Float32Array || Array.isArray(x)) return x as ArrayLike<number>;
  const withModel = x as { model?: ModelInfo; embedding?: ArrayLike<number> };
  if (!withModel.embedding) throw new FaceError('TEMPLATE_INVALID', `${what} has no embedding`);
  assertCurrentModel(withModel as { model: ModelInfo });
  return withModel.embedding;
}

/** Cosine similarity of two embeddings (normalised here, so raw descriptors work too). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== EMBEDDING_SIZE || b.length !== EMBEDDING_SIZE) {
    throw new FaceError('TEMPLATE_INVALID', `embeddings must have ${EMBEDDING_SIZE} values`);
  }
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < EMBEDDING_SIZE; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  if (!(aa > 0) || !(bb > 0) || !Number.isFinite(ab)) throw new FaceError('TEMPLATE_INVALID', 'embedding is zero or not finite');
  return ab / Math.sqrt(aa * bb);
}

export function similarityFromCosine(cos: number): number {
  const s = (cos - COS_FLOOR) / (1 - COS_FLOOR);
  return s < 0 ? 0 : s > 1 ? 1 : s;
}

export function decide(score: number, t: Thresholds = DEFAULT_THRESHOLDS): Decision {
  if (score > t.review) return 'Approved';
  if (score > t.decline) return 'In Review';
  return 'Declined';
}

export function validateThresholds(t: Thresholds): Thresholds {
  const ok = (v: number) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 100;
  if (!ok(t.review) || !ok(t.decline) || t.decline > t.review) {
    throw new RangeError('thresholds must satisfy 0 ≤ decline ≤ review ≤ 100');
  }
  return t;
}

/**
 * Compare a reference with a probe. Templates and analyses from another model version are refused
 * with TEMPLATE_MODEL_MISMATCH (re-enrolment needed), never compared.
 */
export function compare(reference: FaceVector, probe: FaceVector, thresholds: Partial<Thresholds> = {}): CompareResult {
  const t = validateThresholds({ ...DEFAULT_THRESHOLDS, ...thresholds });
  const similarity = similarityFromCosine(cosine(vectorOf(reference, 'reference'), vectorOf(probe, 'probe')));
  const score = Math.round(similarity * 10000) / 100;
  const decision = decide(score, t);
  return {
    similarity: Math.round(similarity * 10000) / 10000,
    score,
    decision,
    match: decision === 'Approved',
    threshold: t.review,
  };
}

export { MODEL };
