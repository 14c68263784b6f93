/** Shared types of the face engine (no runtime code: safe to import anywhere). */

export interface Point {
  x: number;
  y: number;
}

/** Axis-aligned box in pixels of the (EXIF-oriented) input image. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Head pose in degrees. yaw > 0: face turned towards the image's right; pitch > 0: looking up; roll > 0: head tilted clockwise in the image. */
export interface Pose {
  yaw: number;
  pitch: number;
  roll: number;
}

export interface Quality {
  /** Mean luminance of the aligned face, 0 (black) .. 1 (white). */
  brightness: number;
  /** RMS contrast (standard deviation of luminance) of the aligned face, 0 .. 0.5. */
  contrast: number;
  /** Variance of the Laplacian of the aligned 150 px face chip over the variance of its luminance, ×1000 (higher is sharper; < 12 is refused as blurred). */
  sharpness: number;
  /** Face width in pixels of the original image (detector box). */
  faceSize: number;
  /** 1 when the face centre is at the image centre, 0 at a corner. */
  centred: number;
}

export interface DetectedFace {
  box: Box;
  /** Detector confidence 0..1. */
  score: number;
}

export interface FaceAnalysis {
  /** Image size after EXIF orientation, before any downscale. */
  image: { width: number; height: number; format: string };
  /** The dominant face (largest and most central). */
  face: DetectedFace & {
    /** 68 landmarks (iBUG order) in original image pixels. */
    landmarks: Point[];
    pose: Pose;
    quality: Quality;
  };
  /** L2-normalised embedding of the dominant face by `model` (512-d). Never log it. */
  embedding: Float32Array;
  /**
   * The previous model's embedding of the same face (LEGACY_MODEL, 128-d), only when asked for with
   * `legacyEmbedding`: it is what a template enrolled before the upgrade is compared with. Never log it.
   */
  legacy?: { model: ModelInfo; embedding: Float32Array };
  /** Smaller faces that were ignored (e.g. far in the background). */
  otherFaces: DetectedFace[];
  model: ModelInfo;
  /** Milliseconds spent in the worker (decode + inference). */
  ms: number;
}

export interface ModelInfo {
  id: string;
  version: string;
}

export interface AnalyzeOptions {
  /** Reject inputs over this many bytes with IMAGE_TOO_LARGE. Default 1 MB (uploads); the CLI uses 25 MB. */
  maxBytes?: number;
  /** Minimum face width in pixels (FACE_TOO_SMALL below). Default 64. */
  minFaceSize?: number;
  /** Apply the quality gate (LOW_QUALITY). Default true. */
  qualityGate?: boolean;
  /** Also compute the previous model's embedding (`legacy`), for a template enrolled before the upgrade. Default false. */
  legacyEmbedding?: boolean;
}
