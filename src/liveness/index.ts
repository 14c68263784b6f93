/**
 * Presentation-attack detection (liveness) for the embedded verifier. Pure CPU on decoded pixels;
 * the face box/landmarks/embeddings come from the face engine (src/face), which the caller runs.
 *
 *   PASSIVE    passiveLiveness({ still, face, burst, captureIndex })
 *   FLASHING   createChallenge('FLASHING') → page → flashingLiveness({ challenge, frames, face }, { used })
 *   ACTIVE_3D  createChallenge('ACTIVE_3D') → page → analyzeRecording(engine, frames) →
 *              active3dLiveness({ challenge, samples, reference }, { used })
 *
 * Every result: { method, score 0–100, attack (→ LIVENESS_FACE_ATTACK), live (default threshold),
 * signals, warnings (Didit-style, without node_id), applied, ms }. See docs/liveness.md.
 */
export type { Box, FaceGeometry, Frame, GreyImage, LivenessMethod, LivenessResult, LivenessWarning, Point, RgbImage, SignalName, SignalResult } from './types.ts';
export { passiveLiveness, singleFrameSignals, consistencySignal, type PassiveInput } from './passive.ts';
export { flashingLiveness, active3dLiveness, analyzeRecording, type ChallengeUse, type FlashingInput, type Active3dInput, type FaceAnalyzer } from './methods.ts';
export {
  createChallenge, publicChallenge, checkChallengeUse, parseChallenge, challengeDurationMs, flashColourAt, CHALLENGE_DEFAULTS, CHALLENGES_PER_SESSION, SESSION_CHANCE, FLASH_PALETTE,
  type Challenge, type FlashingChallenge, type Active3dChallenge, type ScreenLightChallenge, type Direction, type FlashColour, type UsedSet,
} from './challenge.ts';
export { combine, WEIGHTS, ATTACK_THRESHOLD, LIVE_THRESHOLD, SCREEN_LIGHT_LIVE_THRESHOLD } from './combine.ts';
export { livenessWarning, LIVENESS_RISKS } from './warnings.ts';
export type { PoseSample } from './signals/active.ts';
export { decodeRgb } from './image.ts';
export { parseY4m, writeY4m, Y4mError } from './y4m.ts';
import { decodeRgb } from './image.ts';
import type { Frame } from './types.ts';

/** Decode uploaded JPEG frames with their timestamps (ms) into frames. */
export async function decodeFrames(frames: ReadonlyArray<{ bytes: Uint8Array; t: number }>, maxSide = 640): Promise<Frame[]> {
  return Promise.all(frames.map(async (f) => ({ image: await decodeRgb(f.bytes, maxSide), t: f.t })));
}
