/**
 * Face engine public API. Importing this module loads neither tfjs nor sharp on the calling thread:
 * all decoding and inference happen in the worker pool.
 *
 *   const engine = await createFaceEngine({ poolSize: 2 });
 *   const a = await engine.analyze(jpegBytes);              // FaceError on any refusal
 *   const tpl = enrolTemplate([a]);                          // store sealTemplate(tpl, keyring)
 *   const r = compare(openTemplate(sealed, keyring), await engine.analyze(selfie));
 *   await engine.close();
 */
import { FacePool, type PoolOptions, type PoolStats } from './pool.ts';
import { MODEL } from './model.ts';
import type { AnalyzeOptions, FaceAnalysis, ModelInfo } from './types.ts';

export interface FaceEngineOptions {
  /** Worker threads (default: available cores). */
  poolSize?: number;
  /** Requests allowed to wait (default 32); more → FaceError BUSY. */
  queueLimit?: number;
  /** Per-request limit before the worker is recycled (default 30 s). */
  taskTimeoutMs?: number;
}

export interface FaceEngine {
  /** Decode, detect, align, embed and check quality of the dominant face. Rejects with FaceError. */
  analyze(bytes: Uint8Array, opts?: AnalyzeOptions): Promise<FaceAnalysis>;
  stats(): PoolStats;
  readonly model: ModelInfo;
  /** Wall time of createFaceEngine (workers started, models loaded, warmed up), ms. */
  readonly startupMs: number;
  close(): Promise<void>;
}

export async function createFaceEngine(opts: FaceEngineOptions = {}): Promise<FaceEngine> {
  const t0 = performance.now();
  const poolOpts: PoolOptions = {};
  if (opts.poolSize !== undefined) poolOpts.size = opts.poolSize;
  if (opts.queueLimit !== undefined) poolOpts.queueLimit = opts.queueLimit;
  if (opts.taskTimeoutMs !== undefined) poolOpts.taskTimeoutMs = opts.taskTimeoutMs;
  const pool = await FacePool.create(poolOpts);
  const startupMs = Math.round(performance.now() - t0);
  return {
    analyze: (bytes, o) => pool.run(bytes, o),
    stats: () => pool.stats(),
    model: { ...MODEL },
    startupMs,
    close: () => pool.close(),
  };
}

export { FaceError, FACE_ERROR_CODES, isFaceError } from './errors.ts';
export type { FaceErrorCode, QualityMeasure } from './errors.ts';
export { FacePool } from './pool.ts';
export type { PoolOptions, PoolStats } from './pool.ts';
export { MODEL, EMBEDDING_SIZE, LEGACY_MODEL, LEGACY_EMBEDDING_SIZE, sameModel } from './model.ts';
export { CLI_MAX_BYTES, DEFAULT_MAX_BYTES } from './sniff.ts';
export { enrolTemplate, sealTemplate, openTemplate, templateKeyId, assertCurrentModel, foldIntoTemplate, migrateTemplate, isLegacyTemplate, DRIFT } from './template.ts';
export type { FaceTemplate, TemplateKeyring } from './template.ts';
export { compare, cosine, decide, scoreOf, similarityFromCosine, validateThresholds, DEFAULT_THRESHOLDS, LEGACY_THRESHOLDS, COS_FLOOR } from './compare.ts';
export type { CompareResult, Decision, Thresholds, FaceVector } from './compare.ts';
export type { AnalyzeOptions, Box, DetectedFace, FaceAnalysis, ModelInfo, Point, Pose, Quality } from './types.ts';
