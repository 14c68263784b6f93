// The multipart/form-data upload of a still + PASSIVE burst (docs/verifier.md, "Capture upload").
// Sizes are bounded before parsing (whole body) and per part after; anything malformed is a 400.
import sharp from 'sharp';
import { PORTRAIT_IMAGE_MAX_BYTES } from '../../didit/index.ts';
import { ApiError } from '../http/errors.ts';
import type { BurstFrame, Capture } from '../steps/types.ts';

export const BURST_MAX_FRAMES = 16;
export const BURST_FRAME_MAX_BYTES = 100 * 1024;
/** Frames are 320×240 on the page; a small JPEG can still declare a huge image (decode cost). */
export const BURST_FRAME_MAX_SIDE = 640;
/** Burst timestamps beyond this (ms) are not a ~1 s burst. */
export const BURST_MAX_SPAN_MS = 5000;
/** Still + frames + multipart headers and the small text fields. */
export const BURST_BODY_MAX_BYTES = PORTRAIT_IMAGE_MAX_BYTES + BURST_MAX_FRAMES * BURST_FRAME_MAX_BYTES + 64 * 1024;

const malformed = (detail: string) => new ApiError(400, { outcome: 'error', detail });
const tooLarge = (detail: string) => new ApiError(413, { outcome: 'error', detail });

export const isJpeg = (b: Uint8Array) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/** Parse an already size-bounded multipart body into a Capture. */
export async function parseBurstUpload(body: Buffer, contentType: string): Promise<Capture> {
  let form: FormData;
  try {
    // undici's multipart parser (Node's fetch), on a body we already hold and bounded.
    form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw malformed('The capture is not valid multipart/form-data.');
  }
  const still = form.get('still');
  const frames = form.getAll('frame');
  const times = form.get('times');
  const index = form.get('capture_index');
  if (!(still instanceof Blob) || typeof times !== 'string' || typeof index !== 'string') throw malformed('The capture needs the fields still, frame, times and capture_index.');
  if (frames.length > BURST_MAX_FRAMES) throw malformed(`The burst has more than ${BURST_MAX_FRAMES} frames.`);
  if (frames.length < 2) throw malformed('The burst needs at least 2 frames.');
  if (still.size > PORTRAIT_IMAGE_MAX_BYTES) throw tooLarge('The still is larger than 1 MB.');
  const image = Buffer.from(await still.arrayBuffer());
  if (!isJpeg(image)) throw malformed('The still is not a JPEG image.');

  let t: unknown;
  try {
    t = JSON.parse(times);
  } catch {
    throw malformed('times is not a JSON array.');
  }
  if (!Array.isArray(t) || t.length !== frames.length) throw malformed('times must give one timestamp per frame.');
  for (let i = 0; i < t.length; i++) {
    const v = t[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > BURST_MAX_SPAN_MS || (i > 0 && v < (t[i - 1] as number))) throw malformed('times must be increasing milliseconds from the first frame.');
  }
  const captureIndex = Number(index);
  if (!/^\d{1,2}$/.test(index) || captureIndex >= frames.length) throw malformed('capture_index must name one of the frames.');

  const out: BurstFrame[] = [];
  let size = '';
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    if (!(f instanceof Blob)) throw malformed('Each frame must be a file part.');
    if (f.size > BURST_FRAME_MAX_BYTES) throw tooLarge('A burst frame is larger than 100 KB.');
    const bytes = Buffer.from(await f.arrayBuffer());
    if (!isJpeg(bytes)) throw malformed('A burst frame is not a JPEG image.');
    // Header only (no decode): the pixel size is checked before anything decodes 16 of them.
    const meta = await sharp(bytes).metadata().catch(() => null);
    if (!meta?.width || !meta.height) throw malformed('A burst frame is not a JPEG image.');
    if (Math.max(meta.width, meta.height) > BURST_FRAME_MAX_SIDE) throw tooLarge(`A burst frame is larger than ${BURST_FRAME_MAX_SIDE} px.`);
    const thisSize = `${meta.width}x${meta.height}`;
    if (size && thisSize !== size) throw malformed('The burst frames must all have one size.');
    size = thisSize;
    out.push({ bytes, t: t[i] as number });
  }
  return { image, burst: { frames: out, captureIndex } };
}
