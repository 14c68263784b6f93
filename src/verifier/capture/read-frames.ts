// The multipart/form-data uploads of a liveness workflow (docs/verifier.md, "Capture upload"):
//  - PASSIVE: the still + a ~1 s burst (`frame`s, `times` from the first frame, `capture_index`);
//    with screen light also `challenge_id`, and exactly the challenge's frames and capture index;
//  - FLASHING / ACTIVE_3D: the still + the challenge recording (`frame`s, `times` from the start of
//    the challenge, `challenge_id`).
// The body is read as it streams (multipart.ts, busboy) under the limits below: the whole body,
// the parts by name and count, each part's bytes, JPEG parts only; anything malformed is a 400,
// anything too large a 413, refused as it arrives.
import type { IncomingMessage } from 'node:http';
import { PORTRAIT_IMAGE_MAX_BYTES } from '../../didit/index.ts';
import { ApiError } from '../http/errors.ts';
import type { BurstFrame, Capture } from '../steps/types.ts';
import { jpegSize } from './jpeg-size.ts';
import { readMultipart } from './multipart.ts';
import { parseCameraReport } from '../steps/liveness/camera.ts';
import type { MultipartForm, MultipartLimits } from './multipart.ts';

export type FramesShape = 'burst' | 'recording';

type Limits = { maxFrames: number; minFrames: number; maxSpanMs: number };

export const FRAME_MAX_BYTES = 100 * 1024;
/** Frames are 320×240 (burst, FLASHING) or 640×480 (ACTIVE_3D); a small JPEG can still declare a huge image. */
export const FRAME_MAX_SIDE = 640;
export const LIMITS: Record<FramesShape, Limits> = {
  // 18: the screen-light burst (signals/screen-light.ts SCREEN_PATTERN.frames)
  burst: { maxFrames: 18, minFrames: 2, maxSpanMs: 5000 },
  // FLASHING ≈ 4 s at 15 fps (≈ 60 frames), ACTIVE_3D ≈ 10 s at 5 fps (≈ 50 frames).
  recording: { maxFrames: 96, minFrames: 2, maxSpanMs: 20_000 },
};

/** The still + every frame at its cap + multipart headers and the small text fields. */
export function bodyLimit(shape: FramesShape): number {
  return PORTRAIT_IMAGE_MAX_BYTES + LIMITS[shape].maxFrames * FRAME_MAX_BYTES + 64 * 1024;
}

const malformed = (detail: string) => new ApiError(400, { outcome: 'error', detail });
const tooLarge = (detail: string) => new ApiError(413, { outcome: 'error', detail });

export const isJpeg = (b: Uint8Array) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

function formLimits(shape: FramesShape): MultipartLimits {
  return {
    totalBytes: bodyLimit(shape),
    files: {
      still: { maxCount: 1, maxBytes: PORTRAIT_IMAGE_MAX_BYTES, tooLarge: 'The still is larger than 1 MB.' },
      frame: { maxCount: LIMITS[shape].maxFrames, maxBytes: FRAME_MAX_BYTES, tooLarge: 'A frame is larger than 100 KB.' },
    },
    // times: one number per frame (96 at most, a few characters each).
    fields: { times: 4096, capture_index: 8, challenge_id: 64, camera: 2048 },
    fileType: 'image/jpeg',
  };
}

function readStill(form: MultipartForm): Buffer {
  const [image] = form.files.get('still') ?? [];
  if (!image) throw malformed('The capture needs a still.');
  if (!isJpeg(image)) throw malformed('The still is not a JPEG image.');
  return image;
}

function readTimes(form: MultipartForm, count: number, limits: Limits): number[] {
  const times = form.fields.get('times');
  if (times === undefined) throw malformed('The capture needs times.');
  let t: unknown;
  try {
    t = JSON.parse(times);
  } catch {
    throw malformed('times is not a JSON array.');
  }
  if (!Array.isArray(t) || t.length !== count) throw malformed('times must give one timestamp per frame.');
  for (let i = 0; i < t.length; i++) {
    const v = t[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > limits.maxSpanMs || (i > 0 && v < (t[i - 1] as number))) {
      throw malformed('times must be increasing milliseconds from the start.');
    }
  }
  return t as number[];
}

async function readFrames(form: MultipartForm, limits: Limits): Promise<BurstFrame[]> {
  const frames = form.files.get('frame') ?? [];
  if (frames.length > limits.maxFrames) throw malformed(`The upload has more than ${limits.maxFrames} frames.`);
  if (frames.length < limits.minFrames) throw malformed(`The upload needs at least ${limits.minFrames} frames.`);
  const times = readTimes(form, frames.length, limits);
  const out: BurstFrame[] = [];
  let size = '';
  for (let i = 0; i < frames.length; i++) {
    const bytes = frames[i]!;
    // Header only (no decode): the pixel size is checked before anything decodes dozens of them.
    const meta = jpegSize(bytes);
    if (!meta) throw malformed('A frame is not a JPEG image.');
    if (Math.max(meta.width, meta.height) > FRAME_MAX_SIDE) throw tooLarge(`A frame is larger than ${FRAME_MAX_SIDE} px.`);
    const thisSize = `${meta.width}x${meta.height}`;
    if (size && thisSize !== size) throw malformed('The frames must all have one size.');
    size = thisSize;
    out.push({ bytes, t: times[i]! });
  }
  return out;
}

const CHALLENGE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The shape of the burst a PASSIVE screen-light challenge asks for (ScreenLightChallenge). */
export type ScreenLightShape = { frames: number; captureIndex: number };

/**
 * Parse an already size-bounded multipart body into a Capture of the given shape. A PASSIVE burst
 * under screen light (`screenLight`) must have the challenge's number of frames and capture index;
 * its `challenge_id` is read when present (a burst without one is declined by the liveness step,
 * not refused here: an old page's upload gets a decision).
 */
export async function parseFramesUpload(req: IncomingMessage, contentType: string, shape: FramesShape, screenLight?: ScreenLightShape): Promise<Capture> {
  const form = await readMultipart(req, contentType, formLimits(shape));
  const image = readStill(form);
  // What the page says of its camera; a missing or unreadable report is judged (VIRTUAL_CAMERA), not refused.
  const camera = parseCameraReport(form.fields.get('camera'));
  const withCamera = camera ? { camera } : {};
  const challengeId = form.fields.get('challenge_id') ?? null;
  if (shape === 'recording') {
    if (typeof challengeId !== 'string' || !CHALLENGE_ID.test(challengeId)) throw malformed('The recording needs the challenge_id it answers.');
    return { image, recording: { frames: await readFrames(form, LIMITS.recording), challengeId }, ...withCamera };
  }
  const index = form.fields.get('capture_index');
  if (index === undefined) throw malformed('The capture needs the fields still, frame, times and capture_index.');
  const frames = await readFrames(form, LIMITS.burst);
  const captureIndex = Number(index);
  if (!/^\d{1,2}$/.test(index) || captureIndex >= frames.length) throw malformed('capture_index must name one of the frames.');
  if (!screenLight) return { image, burst: { frames, captureIndex }, ...withCamera };
  if (challengeId !== null && (typeof challengeId !== 'string' || !CHALLENGE_ID.test(challengeId))) throw malformed('challenge_id is not a challenge id.');
  if (frames.length !== screenLight.frames) throw malformed(`The screen-light burst must have ${screenLight.frames} frames.`);
  if (captureIndex !== screenLight.captureIndex) throw malformed(`capture_index must be ${screenLight.captureIndex} (the screen-light challenge's).`);
  return { image, burst: { frames, captureIndex, ...(typeof challengeId === 'string' ? { challengeId } : {}) }, ...withCamera };
}
