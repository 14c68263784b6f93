/**
 * Face templates: the only biometric data kept (never the image). Versioned by model so that an
 * embedding from another model is never compared blindly, and sealed with AES-256-GCM under a
 * template key (its own keyring, separate from token signing keys) with a key id for rotation.
 *
 * Sealed format (ASCII): `ft1.<kid>.<iv b64url>.<ciphertext+tag b64url>`; the prefix `ft1.<kid>` is
 * authenticated as additional data, so a kid cannot be swapped.
 */
import { l2normalise } from './vector.ts';
import crypto from 'node:crypto';
import { FaceError } from './errors.ts';
import { EMBEDDING_SIZE, embeddingSizeOf, LEGACY_MODEL, MODEL, sameModel } from './model.ts';
import type { FaceAnalysis, ModelInfo, Quality } from './types.ts';

export interface FaceTemplate {
  /** Format version of the template record: 1 before drift (the previous model's templates), 2 with it. */
  v: 1 | 2;
  model: ModelInfo;
  /** What is compared: L2-normalised; the enrolment embedding alone, or folded with `recent` (see foldIntoTemplate). */
  embedding: Float32Array;
  /** v2: L2-normalised mean of the enrolment images' embeddings. Never dropped or replaced by drift. */
  enrolment?: Float32Array;
  /** v2: embeddings of the last few high-score approved sign-ins, oldest first (at most DRIFT.keep). */
  recent?: Float32Array[];
  /** v2: ISO 8601 time of the last fold. */
  updated?: string;
  /** ISO 8601 creation time. */
  created: string;
  /** Quality of the enrolment images: per-measure minimum (worst case), plus how many images. */
  quality: Quality & { images: number };
}

export interface TemplateKeyring {
  /** Key id used to seal new templates. */
  current: string;
  /** All keys that may open templates, by key id; each 32 bytes. */
  keys: Record<string, Uint8Array>;
}

const PREFIX = 'ft1';
const KID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Drift: how a template follows a face that changes over the years (foldIntoTemplate).
 * - Only an Approved sign-in whose score is at least `minScore` is folded in. `minScore` is well above
 *   the review threshold (docs/face-engine.md): an impostor who gets in near the threshold, where
 *   impostor approvals live, is never folded, so it cannot make its own next approval easier.
 * - At most `keep` recent embeddings, the oldest dropped first; the enrolment embedding is never dropped.
 * - The compared embedding is normalise(enrolmentWeight · enrolment + (1 − enrolmentWeight) · mean(recent)):
 *   with 0.5 it can turn at most half way from the enrolment towards the recent faces.
 */
export const DRIFT = Object.freeze({ minScore: 70, keep: 3, enrolmentWeight: 0.5 });

/** Average the normalised embeddings of one or more analyses of the same person into a template. */
export function enrolTemplate(analyses: readonly FaceAnalysis[], now: Date = new Date()): FaceTemplate {
  if (!analyses.length) throw new FaceError('TEMPLATE_INVALID', 'enrolment needs at least one analysed image');
  const sum = new Float64Array(EMBEDDING_SIZE);
  for (const a of analyses) {
    if (a.model.id !== MODEL.id || a.model.version !== MODEL.version) {
      throw new FaceError('TEMPLATE_MODEL_MISMATCH', 'analysis made by another model version');
    }
    const e = l2normalise(a.embedding);
    for (let i = 0; i < EMBEDDING_SIZE; i++) sum[i]! += e[i]!;
  }
  const q = analyses.map((a) => a.face.quality);
  const min = (k: keyof Quality): number => Math.min(...q.map((x) => x[k]));
  const embedding = l2normalise(sum);
  return {
    v: 2,
    model: { id: MODEL.id, version: MODEL.version },
    embedding,
    enrolment: Float32Array.from(embedding),
    recent: [],
    created: now.toISOString(),
    quality: {
      brightness: min('brightness'),
      contrast: min('contrast'),
      sharpness: min('sharpness'),
      faceSize: min('faceSize'),
      centred: min('centred'),
      images: analyses.length,
    },
  };
}

/**
 * Fold an approved sign-in into a current-model template (drift, bounded by DRIFT). Returns the new
 * template, or undefined when the sign-in must not move it: not Approved, a score below DRIFT.minScore,
 * a template or analysis of another model (a legacy template is replaced by migrateTemplate instead).
 */
export function foldIntoTemplate(t: FaceTemplate, probe: FaceAnalysis, outcome: { decision: string; score: number }, now: Date = new Date()): FaceTemplate | undefined {
  if (outcome.decision !== 'Approved' || !(outcome.score >= DRIFT.minScore)) return undefined;
  if (!sameModel(t.model, MODEL) || !sameModel(probe.model, MODEL) || probe.embedding.length !== EMBEDDING_SIZE) return undefined;
  const enrolment = t.enrolment ?? t.embedding;
  const recent = [...(t.recent ?? []), l2normalise(probe.embedding)].slice(-DRIFT.keep);
  const mean = new Float64Array(EMBEDDING_SIZE);
  for (const r of recent) for (let i = 0; i < EMBEDDING_SIZE; i++) mean[i]! += r[i]!;
  const m = l2normalise(mean);
  const w = DRIFT.enrolmentWeight;
  const mixed = new Float64Array(EMBEDDING_SIZE);
  for (let i = 0; i < EMBEDDING_SIZE; i++) mixed[i] = w * enrolment[i]! + (1 - w) * m[i]!;
  return { ...t, v: 2, embedding: l2normalise(mixed), enrolment: Float32Array.from(enrolment), recent, updated: now.toISOString() };
}

/**
 * Template migration: a template of the previous model cannot be converted (no image is kept), so the
 * first approved sign-in against it re-enrols the account with that sign-in's current-model embedding.
 */
export function migrateTemplate(t: FaceTemplate, probe: FaceAnalysis, outcome: { decision: string }, now: Date = new Date()): FaceTemplate | undefined {
  if (outcome.decision !== 'Approved' || !sameModel(t.model, LEGACY_MODEL) || !sameModel(probe.model, MODEL)) return undefined;
  return enrolTemplate([probe], now);
}

/** True for a template that the next approved sign-in will re-enrol with the current model. */
export function isLegacyTemplate(t: { model: ModelInfo }): boolean {
  return sameModel(t.model, LEGACY_MODEL);
}

/** Throws TEMPLATE_MODEL_MISMATCH unless the template was made by the current model. */
export function assertCurrentModel(t: { model: ModelInfo }): void {
  if (t.model?.id !== MODEL.id || t.model?.version !== MODEL.version) {
    throw new FaceError('TEMPLATE_MODEL_MISMATCH',
      `template made by ${t.model?.id}@${t.model?.version}, engine is ${MODEL.id}@${MODEL.version}: re-enrolment needed`);
  }
}

function keyFor(keyring: TemplateKeyring, kid: string): Buffer {
  const key = Object.hasOwn(keyring.keys, kid) ? keyring.keys[kid] : undefined;
  if (!key) throw new FaceError('TEMPLATE_KEY_UNKNOWN', `template key ${kid} is not in the keyring`);
  if (key.byteLength !== 32) throw new FaceError('TEMPLATE_KEY_UNKNOWN', `template key ${kid} is not 32 bytes`);
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

/** Encrypt a template under the keyring's current key. */
export function sealTemplate(t: FaceTemplate, keyring: TemplateKeyring): string {
  const kid = keyring.current;
  if (!KID_RE.test(kid)) throw new FaceError('TEMPLATE_KEY_UNKNOWN', 'invalid key id');
  const key = keyFor(keyring, kid);
  const size = embeddingSizeOf(t.model) ?? t.embedding.length;
  const vectors = [t.embedding, ...(t.enrolment ? [t.enrolment] : []), ...(t.recent ?? [])];
  if (vectors.some((v) => v.length !== size)) throw new FaceError('TEMPLATE_INVALID', 'embedding has the wrong size');
  const b64 = (v: Float32Array): string => Buffer.from(Float32Array.from(v).buffer).toString('base64');
  const payload = JSON.stringify({
    v: t.v,
    model: t.model,
    embedding: b64(t.embedding),
    ...(t.v === 2 && t.enrolment ? { enrolment: b64(t.enrolment), recent: (t.recent ?? []).map(b64) } : {}),
    ...(t.updated ? { updated: t.updated } : {}),
    created: t.created,
    quality: t.quality,
  });
  const iv = crypto.randomBytes(12);
  const aad = Buffer.from(`${PREFIX}.${kid}`);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(payload, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${PREFIX}.${kid}.${iv.toString('base64url')}.${ct.toString('base64url')}`;
}

/** Key id a sealed template was sealed with (no decryption), or undefined if malformed. */
export function templateKeyId(sealed: string): string | undefined {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  return parts.length === 4 && parts[0] === PREFIX && KID_RE.test(parts[1]!) ? parts[1] : undefined;
}

/**
 * Decrypt and validate a sealed template. TEMPLATE_INVALID when malformed or tampered with,
 * TEMPLATE_KEY_UNKNOWN when its key id is not in the keyring, TEMPLATE_MODEL_MISMATCH when it was made
 * by another model version (re-enrolment needed).
 */
export function openTemplate(sealed: string | Uint8Array, keyring: TemplateKeyring): FaceTemplate {
  const text = typeof sealed === 'string' ? sealed : Buffer.from(sealed).toString('utf8');
  const parts = text.split('.');
  if (parts.length !== 4 || parts[0] !== PREFIX || !KID_RE.test(parts[1]!)) {
    throw new FaceError('TEMPLATE_INVALID', 'not a sealed face template');
  }
  const kid = parts[1]!;
  const key = keyFor(keyring, kid);
  const iv = Buffer.from(parts[2]!, 'base64url');
  const blob = Buffer.from(parts[3]!, 'base64url');
  if (iv.length !== 12 || blob.length < 17) throw new FaceError('TEMPLATE_INVALID', 'sealed template truncated');
  let plain: string;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(`${PREFIX}.${kid}`));
    decipher.setAuthTag(blob.subarray(blob.length - 16));
    plain = Buffer.concat([decipher.update(blob.subarray(0, blob.length - 16)), decipher.final()]).toString('utf8');
  } catch {
    throw new FaceError('TEMPLATE_INVALID', 'sealed template failed authentication');
  }
  let raw: { v?: unknown; model?: ModelInfo; embedding?: unknown; enrolment?: unknown; recent?: unknown; updated?: unknown; created?: unknown; quality?: unknown };
  try {
    raw = JSON.parse(plain) as typeof raw;
  } catch {
    throw new FaceError('TEMPLATE_INVALID', 'template payload is not JSON');
  }
  if ((raw.v !== 1 && raw.v !== 2) || typeof raw.embedding !== 'string' || typeof raw.created !== 'string' || !raw.model || typeof raw.quality !== 'object') {
    throw new FaceError('TEMPLATE_INVALID', 'template payload malformed');
  }
  // The current model, or the previous one (compared with the capture's legacy embedding until the
  // next approved sign-in re-enrols it); any other model cannot be compared.
  const size = embeddingSizeOf(raw.model);
  if (size === undefined) {
    throw new FaceError('TEMPLATE_MODEL_MISMATCH',
      `template made by ${raw.model.id}@${raw.model.version}, engine is ${MODEL.id}@${MODEL.version}: re-enrolment needed`);
  }
  const vector = (b64: unknown): Float32Array => {
    const bytes = typeof b64 === 'string' ? Buffer.from(b64, 'base64') : Buffer.alloc(0);
    if (bytes.length !== size * 4) throw new FaceError('TEMPLATE_INVALID', 'template embedding has the wrong size');
    const v = new Float32Array(size);
    new Uint8Array(v.buffer).set(bytes);
    return v;
  };
  const t: FaceTemplate = {
    v: raw.v,
    model: { id: raw.model.id, version: raw.model.version },
    embedding: vector(raw.embedding),
    created: raw.created,
    quality: raw.quality as FaceTemplate['quality'],
  };
  if (raw.v === 2 && raw.enrolment !== undefined) {
    if (!Array.isArray(raw.recent)) throw new FaceError('TEMPLATE_INVALID', 'template payload malformed');
    t.enrolment = vector(raw.enrolment);
    t.recent = raw.recent.map(vector);
    if (typeof raw.updated === 'string') t.updated = raw.updated;
  }
  return t;
}

