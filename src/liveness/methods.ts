/**
 * FLASHING and ACTIVE_3D: challenge checks (fresh, single-use, in time) + their signals + the
 * single-frame passive signals on one frame of the recording, combined per method.
 */
import { checkChallengeUse, type Active3dChallenge, type FlashingChallenge, type UsedSet } from './challenge.ts';
import { combine } from './combine.ts';
import { singleFrameSignals } from './passive.ts';
import { activeSignals, type PoseSample } from './signals/active.ts';
import { flashSignals } from './signals/flash.ts';
import { sameFaceSignal } from './signals/same-face.ts';
import type { FaceGeometry, Frame, LivenessMethod, LivenessResult, Point, RgbImage, SignalResult } from './types.ts';

export interface ChallengeUse {
  /** Ids of challenges already answered (the verifier's store); omit only for offline checks (CLI). */
  used?: UsedSet | undefined;
  /** Server time of the upload (default now). */
  now?: number | undefined;
  /** Server time when the page reported the challenge started (default: issuedAt). */
  startedAt?: number | undefined;
  /** The challenge id the upload names (must equal the session's challenge). */
  responseId?: string | undefined;
}

function refused(method: LivenessMethod, use: ReturnType<typeof checkChallengeUse>, t0: number): LivenessResult {
  const s: SignalResult = { signal: 'challenge_track', applies: true, score: 0, reason: use.warning?.short_description ?? 'challenge refused' };
  if (use.warning) s.warning = use.warning;
  return combine(method, [s], performance.now() - t0);
}

export interface FlashingInput {
  challenge: FlashingChallenge;
  /** The recorded frames, t in ms from the start of the sequence (the page's performance.now()). */
  frames: readonly Frame[];
  /** The face in the frames (e.g. the face engine's analysis of the middle frame). */
  face: FaceGeometry;
  /** The capture still and its face, for the single-frame signals (optional). */
  still?: RgbImage | undefined;
  stillFace?: FaceGeometry | undefined;
  /**
   * The face engine's embeddings of a few recorded frames and of the still: the face answering the
   * colours must be the face the match judged (same_face). Omitted: same_face does not apply.
   */
  embeddings?: readonly ArrayLike<number>[] | undefined;
  reference?: ArrayLike<number> | null | undefined;
}

export function flashingLiveness(input: FlashingInput, use: ChallengeUse = {}): LivenessResult {
  const t0 = performance.now();
  if (use.used) {
    const u = checkChallengeUse(input.challenge, { used: use.used, now: use.now, startedAt: use.startedAt, responseId: use.responseId });
    if (!u.ok) return refused('FLASHING', u, t0);
  }
  const signals = flashSignals(input.challenge, input.frames, input.face);
  signals.push(sameFaceSignal(input.reference, input.embeddings ?? []));
  const mid = input.frames[Math.floor(input.frames.length / 2)];
  if (input.still && input.stillFace) signals.push(...singleFrameSignals(input.still, input.stillFace));
  else if (mid) signals.push(...singleFrameSignals(mid.image, input.face).filter((s) => s.signal === 'device_border'));
  return combine('FLASHING', signals, performance.now() - t0);
}

export interface Active3dInput {
  challenge: Active3dChallenge;
  /** The face engine's analysis of each recorded frame (see analyzeRecording), t in ms from the start. */
  samples: readonly PoseSample[];
  /** Embedding of the capture still (same face as the challenge), optional. */
  reference?: ArrayLike<number> | null | undefined;
  still?: RgbImage | undefined;
  stillFace?: FaceGeometry | undefined;
}

export function active3dLiveness(input: Active3dInput, use: ChallengeUse = {}): LivenessResult {
  const t0 = performance.now();
  if (use.used) {
    const u = checkChallengeUse(input.challenge, { used: use.used, now: use.now, startedAt: use.startedAt, responseId: use.responseId });
    if (!u.ok) return refused('ACTIVE_3D', u, t0);
  }
  const signals = activeSignals(input.challenge, input.samples, { reference: input.reference ?? null });
  if (input.still && input.stillFace) signals.push(...singleFrameSignals(input.still, input.stillFace));
  return combine('ACTIVE_3D', signals, performance.now() - t0);
}

/** The slice of the face engine used here (src/face createFaceEngine().analyze). */
export interface FaceAnalyzer {
  analyze(bytes: Uint8Array, opts?: { qualityGate?: boolean; minFaceSize?: number; maxBytes?: number }): Promise<{
    face: { box: { x: number; y: number; width: number; height: number }; landmarks: Point[]; pose: { yaw: number; pitch: number; roll: number } };
    embedding: Float32Array;
  }>;
}

/**
 * Run the face engine over the frames of an ACTIVE_3D recording, a few at a time (the engine's pool
 * refuses work beyond its queue: BUSY). A frame without a usable face becomes { face: null }.
 * `every` analyses one frame in `every` (the validator needs ≈ 5 per second).
 */
export async function analyzeRecording(
  engine: FaceAnalyzer, frames: ReadonlyArray<{ bytes: Uint8Array; t: number }>, opts: { every?: number; concurrency?: number } = {},
): Promise<PoseSample[]> {
  const picked = frames.filter((_, i) => i % Math.max(1, opts.every ?? 1) === 0);
  const out: PoseSample[] = new Array(picked.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < picked.length) {
      const i = next++;
      const f = picked[i]!;
      try {
        const a = await engine.analyze(f.bytes, { qualityGate: false, minFaceSize: 40 });
        out[i] = { t: f.t, face: { landmarks: a.face.landmarks, pose: a.face.pose, embedding: a.embedding } };
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'NO_FACE_DETECTED' || code === 'FACE_TOO_SMALL' || code === 'MULTIPLE_FACES' || code === 'LOW_QUALITY') out[i] = { t: f.t, face: null };
        else throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, picked.length)) }, worker));
  return out;
}
