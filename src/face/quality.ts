/** The quality gate: pure checks on measures computed by the analyzer (no tfjs, no sharp). */
import { FaceError } from './errors.ts';
import type { Pose, Quality } from './types.ts';

export const QUALITY_LIMITS = Object.freeze({
  /** Mean luminance of the aligned face, 0..1. */
  minBrightness: 0.15,
  maxBrightness: 0.9,
  /** RMS contrast of the aligned face. */
  minContrast: 0.04,
  /** Contrast-normalised Laplacian variance; a 4 px Gaussian blur on a 250 px face gives ~8, a 2 px one ~30. */
  minSharpness: 12,
  /** Degrees. Lenient on purpose (the recogniser copes with ~55° yaw; the shared stuart5 reads -51°); pitch reads about 10° low on the shared faces (generic 3D model). */
  maxYaw: 55,
  maxPitch: 45,
});

/** The first failed quality check as a LOW_QUALITY FaceError (with `measure`), or undefined. */
export function qualityIssue(q: Quality, pose: Pose, l = QUALITY_LIMITS): FaceError | undefined {
  if (q.brightness < l.minBrightness) return new FaceError('LOW_QUALITY', 'face too dark', { measure: 'brightness', value: q.brightness, limit: l.minBrightness });
  if (q.brightness > l.maxBrightness) return new FaceError('LOW_QUALITY', 'face overexposed', { measure: 'brightness', value: q.brightness, limit: l.maxBrightness });
  if (q.contrast < l.minContrast) return new FaceError('LOW_QUALITY', 'face contrast too low', { measure: 'contrast', value: q.contrast, limit: l.minContrast });
  if (q.sharpness < l.minSharpness) return new FaceError('LOW_QUALITY', 'face too blurry', { measure: 'sharpness', value: q.sharpness, limit: l.minSharpness });
  if (Math.abs(pose.yaw) > l.maxYaw) return new FaceError('LOW_QUALITY', 'head turned too far', { measure: 'pose', value: pose.yaw, limit: l.maxYaw });
  if (Math.abs(pose.pitch) > l.maxPitch) return new FaceError('LOW_QUALITY', 'head tilted too far', { measure: 'pose', value: pose.pitch, limit: l.maxPitch });
  return undefined;
}
