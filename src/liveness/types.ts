/** Shared types of presentation-attack detection (no runtime code: safe to import anywhere). */
import type { LivenessMethod, LogType } from '../didit/types.ts';

export type { LivenessMethod, LogType };

/** Decoded RGB image, 3 bytes per pixel, row-major (same layout as the face engine's RgbImage). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** Luminance (0..255) as floats, row-major. */
export interface GreyImage {
  data: Float32Array;
  width: number;
  height: number;
}

// The face engine's geometry types: liveness works on its boxes and landmarks.
import type { Box, Point } from '../face/types.ts';
export type { Box, Point };

/** Where the face is in a frame: the detector box and, when known, the 68 iBUG landmarks (frame pixels). */
export interface FaceGeometry {
  box: Box;
  landmarks?: readonly Point[] | undefined;
}

/** One frame of a burst or of a challenge recording; `t` in ms from the start of the burst/challenge. */
export interface Frame {
  image: RgbImage;
  t: number;
}

/** A Didit-style warning without node_id (the verifier adds its node). */
export interface LivenessWarning {
  feature: 'LIVENESS';
  risk: string;
  log_type: LogType;
  short_description: string;
  long_description: string;
  additional_data: Record<string, unknown> | null;
}

export type SignalName =
  | 'device_border'
  | 'screen_moire'
  | 'screen_glare'
  | 'print_texture'
  | 'motion'
  | 'device_motion'
  | 'screen_light'
  | 'light_shading'
  | 'light_falloff'
  | 'capture_consistency'
  | 'flash_response'
  | 'flash_shading'
  | 'challenge_track'
  | 'parallax_3d'
  | 'same_face';

export interface SignalResult {
  signal: SignalName;
  /** False when the input cannot say anything about this signal (e.g. no surroundings in a tight crop); score is then 1 and ignored. */
  applies: boolean;
  /** 0..1, 1 = live-looking. */
  score: number;
  /** Why the signal does not apply, or what it saw, in a few words. */
  reason?: string;
  /** Measured values, for logs and the benchmark. */
  details?: Record<string, number | string | boolean>;
  warning?: LivenessWarning;
}

export interface LivenessResult {
  method: LivenessMethod;
  /** 0..100 (integer). */
  score: number;
  /** Strong evidence of a presentation attack (→ LIVENESS_FACE_ATTACK, auto-decline). */
  attack: boolean;
  /** Not an attack and score above the default review threshold. */
  live: boolean;
  signals: SignalResult[];
  /** Signal warnings, plus LIVENESS_FACE_ATTACK / LOW_LIVENESS_SCORE when they apply. */
  warnings: LivenessWarning[];
  /** Which signals were applicable to this input. */
  applied: SignalName[];
  ms: number;
}
