import type { ModelInfo } from './types.ts';

/**
 * Identity of the embedding space. Templates carry it; a template whose model differs is refused
 * (TEMPLATE_MODEL_MISMATCH) instead of being compared. Bump `version` whenever anything that changes
 * embeddings changes: the recognition weights, the landmark model, the alignment or the preprocessing.
 */
export const MODEL: ModelInfo = Object.freeze({
  id: 'face-api-resnet128',
  version: '1.7.15+dlibchip150.1',
});

/** Size of the embedding vector. */
export const EMBEDDING_SIZE = 128;
