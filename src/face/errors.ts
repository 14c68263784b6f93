/**
 * Typed errors of the face engine. `code` values are a stable contract: the verifier maps them to
 * Didit warnings and HTTP answers, the CLI prints them.
 */
export const FACE_ERROR_CODES = [
  'IMAGE_INVALID',
  'IMAGE_TOO_LARGE',
  'NO_FACE_DETECTED',
  'MULTIPLE_FACES',
  'FACE_TOO_SMALL',
  'LOW_QUALITY',
  'BUSY',
  'TEMPLATE_INVALID',
  'TEMPLATE_MODEL_MISMATCH',
  'TEMPLATE_KEY_UNKNOWN',
  /** The engine was closed, or a worker died or timed out while handling the request. */
  'ENGINE_FAILURE',
] as const;

export type FaceErrorCode = (typeof FACE_ERROR_CODES)[number];

/** Which quality measure failed, for `LOW_QUALITY`. */
export type QualityMeasure = 'brightness' | 'contrast' | 'sharpness' | 'pose';

export interface FaceErrorInit {
  measure?: QualityMeasure;
  /** Value measured and limit that failed, when meaningful (never image content). */
  value?: number;
  limit?: number;
}

export class FaceError extends Error {
  readonly code: FaceErrorCode;
  readonly measure: QualityMeasure | undefined;
  readonly value: number | undefined;
  readonly limit: number | undefined;

  constructor(code: FaceErrorCode, message?: string, init: FaceErrorInit = {}) {
    super(message ?? code);
    this.name = 'FaceError';
    this.code = code;
    this.measure = init.measure;
    this.value = init.value;
    this.limit = init.limit;
  }

  /** Plain object that survives structured clone (worker → main thread). */
  toJSON(): SerializedFaceError {
    const out: SerializedFaceError = { code: this.code, message: this.message };
    if (this.measure !== undefined) out.measure = this.measure;
    if (this.value !== undefined) out.value = this.value;
    if (this.limit !== undefined) out.limit = this.limit;
    return out;
  }

  static fromJSON(e: SerializedFaceError): FaceError {
    const init: FaceErrorInit = {};
    if (e.measure !== undefined) init.measure = e.measure;
    if (e.value !== undefined) init.value = e.value;
    if (e.limit !== undefined) init.limit = e.limit;
    return new FaceError(e.code, e.message, init);
  }
}

export interface SerializedFaceError {
  code: FaceErrorCode;
  message: string;
  measure?: QualityMeasure;
  value?: number;
  limit?: number;
}

export function isFaceError(e: unknown): e is FaceError {
  return e instanceof FaceError;
}
