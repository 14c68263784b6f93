/**
 * PASSIVE liveness: single-frame signals on the still and motion signals on the burst, combined.
 * Everything here is pure CPU on decoded pixels; the face box comes from the face engine's analysis
 * of the still (the verifier already has it), so no model runs here.
 */
import { combine } from './combine.ts';
import { Float32Arena } from './scratch.ts';
import { binnedGreyOf, scaleBox } from './image.ts';
import { borderSignal } from './signals/border.ts';
import { deviceMotionSignal } from './signals/device-motion.ts';
import { motionFromTracking, trackBurst } from './signals/motion.ts';
import { faceRegistration, lightSignals } from './signals/light-shading.ts';
import { screenLightSignal } from './signals/screen-light.ts';
import { glareSignal, moireSignal, printSignal } from './signals/screen.ts';
import type { FaceGeometry, Frame, LivenessResult, RgbImage, SignalResult } from './types.ts';
import { livenessWarning } from './warnings.ts';

export interface PassiveInput {
  /** The capture (e.g. 640×480 JPEG decoded) and the face found in it. */
  still?: RgbImage | undefined;
  face: FaceGeometry;
  /** The burst around the capture (same camera stream, any smaller size, same aspect ratio). */
  burst?: readonly Frame[] | undefined;
  /** Index of the burst frame taken at the same moment as the still (default: middle). */
  captureIndex?: number | undefined;
  /** Face in burst pixels; default: the still's face scaled to the burst size. */
  burstFace?: FaceGeometry | undefined;
  /**
   * The screen-light pattern the page showed during the burst (one 0/1 per burst frame, from a
   * ScreenLightChallenge). Absent: screen_light does not apply (CLI on a plain video, workflows
   * with screen light off).
   */
  screenPattern?: readonly number[] | undefined;
}

/** Single-frame signals on one image. */
export function singleFrameSignals(img: RgbImage, face: FaceGeometry): SignalResult[] {
  return [borderSignal(img, face), moireSignal(img, face), glareSignal(img, face), printSignal(img, face)];
}

/** The burst tracking's pyramids, reused by every analysis of this thread (none outlives its call). */
const pyramidArena = new Float32Arena();

export function passiveLiveness(input: PassiveInput): LivenessResult {
  const t0 = performance.now();
  pyramidArena.reset();
  const signals: SignalResult[] = [];
  if (input.still) signals.push(...singleFrameSignals(input.still, input.face));
  if (input.burst && input.burst.length) {
    const b0 = input.burst[0]!.image;
    const captureIndex = input.captureIndex ?? Math.floor(input.burst.length / 2);
    const ref = input.still ?? b0;
    const burstFace = input.burstFace ?? { box: scaleBox(input.face.box, b0.width / ref.width) };
    if (input.still) signals.push(consistencySignal(input.still, input.burst[captureIndex]?.image));
    const tracking = trackBurst(input.burst, burstFace, { captureIndex, arena: pyramidArena });
    if ('signal' in tracking) signals.push(tracking);
    else signals.push(motionFromTracking(tracking, input.burst.length), deviceMotionSignal(input.burst, tracking));
    if (input.screenPattern) {
      const offsets = faceRegistration(input.burst, burstFace, captureIndex);
      const light = screenLightSignal(input.burst, burstFace, input.screenPattern, offsets);
      signals.push(light);
      // how the light falls on the face and beside it: a 3D face in a room, or paper / glass
      // (they do not apply where no light reached the face)
      if (light.applies) signals.push(...lightSignals(input.burst, burstFace, input.screenPattern, light.details.lag, captureIndex, offsets));
    }
    if (!input.still) signals.push(...singleFrameSignals(input.burst[captureIndex]!.image, burstFace).filter((s) => s.signal !== 'screen_moire'));
  }
  return combine('PASSIVE', signals, performance.now() - t0);
}

/**
 * The still must be the burst's capture frame (same moment of the same stream): normalised
 * correlation of the two at the burst's size. A still from elsewhere pasted onto a live burst fails.
 */
export function consistencySignal(still: RgbImage, frame: RgbImage | undefined): SignalResult {
  if (!frame) return { signal: 'capture_consistency', applies: false, score: 1, reason: 'no burst frame at the capture index' };
  const ratio = still.width / frame.width;
  if (Math.abs(ratio - still.height / frame.height) > 0.02 * ratio) {
    return { signal: 'capture_consistency', applies: true, score: 0.05, reason: 'still and burst differ in aspect ratio', warning: livenessWarning('CAPTURE_MISMATCH', 'error') };
  }
  const bin = Math.max(1, Math.round(ratio));
  const a = binnedGreyOf(still, bin), b = binnedGreyOf(frame, 1);
  const w = Math.min(a.width, b.width), h = Math.min(a.height, b.height);
  let sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = 0;
  for (let y = 0; y < h; y += 2) for (let x = 0; x < w; x += 2) {
    const u = a.data[y * a.width + x]!, v = b.data[y * b.width + x]!;
    sa += u; sb += v; saa += u * u; sbb += v * v; sab += u * v; n++;
  }
  const cov = sab / n - (sa / n) * (sb / n);
  const corr = cov / Math.sqrt(Math.max(1e-9, (saa / n - (sa / n) ** 2) * (sbb / n - (sb / n) ** 2)));
  const ok = corr >= 0.8;
  const r: SignalResult = { signal: 'capture_consistency', applies: true, score: ok ? 1 : 0.05, reason: ok ? 'the still is the burst\'s capture frame' : 'the still is not the burst\'s capture frame', details: { correlation: Math.round(corr * 1000) / 1000 } };
  if (!ok) r.warning = livenessWarning('CAPTURE_MISMATCH', 'error', { correlation: Math.round(corr * 1000) / 1000 });
  return r;
}
