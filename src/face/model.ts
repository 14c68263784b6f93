import type { ModelInfo } from './types.ts';

/**
 * Identity of the embedding space. Templates carry it; an embedding is only ever compared with one of
 * the same model. Bump `version` whenever anything that changes embeddings changes: the recognition
 * weights, the landmark model, the alignment or the preprocessing.
 *
 * MODEL: the ArcFace-class 512-d net on onnxruntime-node (fr_feature.onnx, SHA-256 prefix in the
 * version), 5-point alignment to the 112 px ArcFace template from face-api's 68 landmarks.
 */
export const MODEL: ModelInfo = Object.freeze({
  id: 'arcface-fr-feature-512',
  version: '87aacdfe+arc5pt112.1',
});

/** Size of the current model's embedding vector. */
export const EMBEDDING_SIZE = 512;

/**
 * The model before the upgrade (face-api's dlib ResNet on tfjs wasm). Templates enrolled with it keep
 * working: they are compared with this model's embedding of the capture (computed only when asked:
 * `legacyEmbedding`) until the user's next approved sign-in re-enrols them with MODEL.
 */
export const LEGACY_MODEL: ModelInfo = Object.freeze({
  id: 'face-api-resnet128',
  version: '1.7.15+dlibchip150.1',
});
export const LEGACY_EMBEDDING_SIZE = 128;

export function sameModel(a: ModelInfo | undefined, b: ModelInfo): boolean {
  return !!a && a.id === b.id && a.version === b.version;
}

/** Embedding size of a known model, or undefined for any other. */
export function embeddingSizeOf(m: ModelInfo | undefined): number | undefined {
  if (sameModel(m, MODEL)) return EMBEDDING_SIZE;
  if (sameModel(m, LEGACY_MODEL)) return LEGACY_EMBEDDING_SIZE;
  return undefined;
}
