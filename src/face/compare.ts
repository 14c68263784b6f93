/**
 * 1:1 comparison of a reference (template, analysis or embedding) with a probe.
 *
 * similarity = clamp((cos − floor) / (1 − floor), 0, 1) of the L2-normalised embeddings, with the
 * model's own `floor`; score = 100 · similarity (2 decimals). The floor puts each model's cosines on a
 * 0–100 scale where different people land around the same place (median ≈ 35–40), so that score-based
 * settings elsewhere (liveness same_face) keep their meaning.
 *
 * Decision (same rule as the verifier's workflow thresholds):
 *   score > review → Approved;  decline < score ≤ review → In Review;  score ≤ decline → Declined.
 * Thresholds given to `compare` are for the current model. A reference made by the previous model
 * (LEGACY_MODEL) is compared with the probe's legacy embedding and judged by that model's own defaults:
 * the scores of two models are not the same numbers.
 */
import { FaceError } from './errors.ts';
import { EMBEDDING_SIZE, embeddingSizeOf, LEGACY_EMBEDDING_SIZE, LEGACY_MODEL, MODEL, sameModel } from './model.ts';
import type { FaceTemplate } from './template.ts';
import type { FaceAnalysis, ModelInfo } from './types.ts';

export interface Thresholds {
  /** Score (0–100) above which the decision is Approved. */
  review: number;
  /** Score (0–100) at or below which the decision is Declined. */
  decline: number;
}

interface ModelScale { floor: number; thresholds: Readonly<Thresholds> }

/**
 * Per model: the cosine mapped to score 0, and the default thresholds (docs/face-engine.md, "Scores and
 * decisions"). Changing a floor changes every score of that model: tied to its version.
 */
const SCALES: Record<string, ModelScale> = {
  [`${MODEL.id}@${MODEL.version}`]: { floor: -0.5, thresholds: Object.freeze({ review: 56, decline: 50 }) },
  [`${LEGACY_MODEL.id}@${LEGACY_MODEL.version}`]: { floor: 0.75, thresholds: Object.freeze({ review: 72, decline: 62 }) },
};

function scaleOf(m: ModelInfo): ModelScale {
  const s = SCALES[`${m.id}@${m.version}`];
  if (!s) throw new FaceError('TEMPLATE_MODEL_MISMATCH', `no scale for model ${m.id}@${m.version}`);
  return s;
}

/** Cosine of the current model mapped to similarity 0. */
export const COS_FLOOR = scaleOf(MODEL).floor;

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = scaleOf(MODEL).thresholds;
/** What a template of the previous model is judged by. */
export const LEGACY_THRESHOLDS: Readonly<Thresholds> = scaleOf(LEGACY_MODEL).thresholds;

export type Decision = 'Approved' | 'In Review' | 'Declined';

export interface CompareResult {
  similarity: number;
  score: number;
  decision: Decision;
  /** True only when Approved. */
  match: boolean;
  /** The review threshold applied (score units). */
  threshold: number;
  /** The model whose embeddings were compared (LEGACY_MODEL for a template enrolled before the upgrade). */
  model: ModelInfo;
}

export type FaceVector = FaceTemplate | FaceAnalysis | Float32Array | readonly number[];

/** The model of a vector: its own for a template or analysis, from its length for a bare vector. */
function modelOf(x: FaceVector): ModelInfo {
  if (x instanceof Float32Array || Array.isArray(x)) {
    const n = (x as ArrayLike<number>).length;
    if (n === EMBEDDING_SIZE) return MODEL;
    if (n === LEGACY_EMBEDDING_SIZE) return LEGACY_MODEL;
    throw new FaceError('TEMPLATE_INVALID', `embeddings must have ${EMBEDDING_SIZE} values`);
  }
  const m = (x as { model?: ModelInfo }).model;
  if (!m || embeddingSizeOf(m) === undefined) {
    throw new FaceError('TEMPLATE_MODEL_MISMATCH', `made by ${m?.id}@${m?.version}, which this engine cannot compare: re-enrolment needed`);
  }
  return m;
}

/** The vector of `x` in `model`'s space: its own embedding, or an analysis' legacy embedding. */
function vectorIn(x: FaceVector, model: ModelInfo, what: string): ArrayLike<number> {
  if (x instanceof Float32Array || Array.isArray(x)) {
    if (!sameModel(modelOf(x), model)) throw new FaceError('TEMPLATE_MODEL_MISMATCH', `${what} is not a ${model.id} embedding`);
    return x as ArrayLike<number>;
  }
  const v = x as { model?: ModelInfo; embedding?: ArrayLike<number>; legacy?: { model: ModelInfo; embedding: ArrayLike<number> } };
  if (!v.embedding) throw new FaceError('TEMPLATE_INVALID', `${what} has no embedding`);
  if (sameModel(v.model, model)) return v.embedding;
  if (v.legacy && sameModel(v.legacy.model, model)) return v.legacy.embedding;
  throw new FaceError('TEMPLATE_MODEL_MISMATCH',
    `${what} has no ${model.id}@${model.version} embedding` + (sameModel(model, LEGACY_MODEL) ? ' (analyse it with legacyEmbedding)' : ''));
}

/** Cosine similarity of two embeddings of the same size (normalised here, so raw descriptors work too). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || (a.length !== EMBEDDING_SIZE && a.length !== LEGACY_EMBEDDING_SIZE)) {
    throw new FaceError('TEMPLATE_INVALID', `embeddings must have ${EMBEDDING_SIZE} values`);
  }
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { ab += a[i]! * b[i]!; aa += a[i]! * a[i]!; bb += b[i]! * b[i]!; }
  if (!(aa > 0) || !(bb > 0) || !Number.isFinite(ab)) throw new FaceError('TEMPLATE_INVALID', 'embedding is zero or not finite');
  return ab / Math.sqrt(aa * bb);
}

/** Cosine → similarity 0..1 on `model`'s scale (default: the current model). */
export function similarityFromCosine(cos: number, model: ModelInfo = MODEL): number {
  const floor = scaleOf(model).floor;
  const s = (cos - floor) / (1 - floor);
  return s < 0 ? 0 : s > 1 ? 1 : s;
}

/** Score (0–100, 2 decimals) of two embeddings of `model`. */
export function scoreOf(a: ArrayLike<number>, b: ArrayLike<number>, model: ModelInfo = MODEL): number {
  return Math.round(similarityFromCosine(cosine(a, b), model) * 10000) / 100;
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
 * Compare a reference with a probe in the reference's model. A reference of an unknown model is
 * refused with TEMPLATE_MODEL_MISMATCH; a legacy reference needs a probe analysed with
 * `legacyEmbedding` and is judged by LEGACY_THRESHOLDS (`thresholds` are for the current model).
 */
export function compare(reference: FaceVector, probe: FaceVector, thresholds: Partial<Thresholds> = {}): CompareResult {
  const model = modelOf(reference);
  const legacy = sameModel(model, LEGACY_MODEL);
  const t = legacy ? { ...LEGACY_THRESHOLDS } : validateThresholds({ ...DEFAULT_THRESHOLDS, ...thresholds });
  const similarity = similarityFromCosine(cosine(vectorIn(reference, model, 'reference'), vectorIn(probe, model, 'probe')), model);
  const score = Math.round(similarity * 10000) / 100;
  const decision = decide(score, t);
  return {
    similarity: Math.round(similarity * 10000) / 10000,
    score,
    decision,
    match: decision === 'Approved',
    threshold: t.review,
    model: { id: model.id, version: model.version },
  };
}

export { MODEL };
