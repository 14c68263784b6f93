/**
 * Synthetic FLASHING recordings: the frames the capture page would upload while the screen shows a
 * challenge's colour sequence. Bona fide: the 3D head lit by the screen (Lambertian, n·z) plus room
 * light. Attacks: a printed photo (reflects the colours, but flat), a phone showing a photo
 * (emissive: only a faint reflection on the glass), a replay of a genuine recording of another
 * sequence, a genuine response arriving too late (relayed), and an injected still.
 */
import { createChallenge, flashColourAt, type FlashingChallenge } from '../../src/liveness/challenge.ts';
import { seededRng, uniform, type Rng } from '../../src/liveness/rng.ts';
import type { FaceGeometry, Frame } from '../../src/liveness/types.ts';
import { cloneCanvas, type Canvas, type Colour } from './canvas.ts';
import { buildInstrument, liveMotion, renderInstrument } from './generate.ts';
import { headLandmarks, type FaceSource } from './head.ts';
import { CAM_H, CAM_W, capture, makePerson, randomCamera, renderPerson, renderRoom } from './scene.ts';
import { decodeRgb, encodeJpeg } from '../../src/liveness/image.ts';

export const FLASH_KINDS = ['bona_fide', 'print', 'screen_photo', 'replay_other_sequence', 'late_response', 'injected_still'] as const;
export type FlashKind = (typeof FLASH_KINDS)[number];

export interface FlashingSample {
  kind: FlashKind;
  attack: boolean;
  challenge: FlashingChallenge;
  frames: Frame[];
  /** Face in the frame at the middle of the recording (frame pixels). */
  face: FaceGeometry;
  meta: Record<string, number | string | boolean>;
}

const ZOOM = 0.5; // 320×240 frames

function downsample(c: Canvas): Canvas {
  const w = Math.floor(c.width / 2), h = Math.floor(c.height / 2);
  const out: Canvas = { width: w, height: h, data: new Float32Array(w * h * 3) };
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < 3; k++) {
    const i = (2 * y * c.width + 2 * x) * 3 + k;
    out.data[(y * w + x) * 3 + k] = (c.data[i]! + c.data[i + 3]! + c.data[i + c.width * 3]! + c.data[i + c.width * 3 + 3]!) / 4;
  }
  return out;
}

export async function generateFlashingSample(kind: FlashKind, seed: number, faces: readonly FaceSource[], challenge?: FlashingChallenge, opts: { jpegQuality?: number | null } = {}): Promise<FlashingSample> {
  const stream = seed * 104723 + kind.length * 31 + kind.charCodeAt(0);
  const timing: Rng = seededRng(stream);
  // The person, the room and the camera have a stream of their own: the same seed is the same scene
  // whatever sequence the server chose (how many frames it takes does not shift the draws).
  const rng: Rng = seededRng(stream + 0x5eed);
  const ch = challenge ?? (createChallenge('FLASHING', timing, 0) as FlashingChallenge);
  // a genuine recording of another sequence (replay attack)
  const shown = kind === 'replay_other_sequence' ? (createChallenge('FLASHING', seededRng(seed + 99991), 0) as FlashingChallenge) : ch;
  const duration = ch.leadInMs + ch.steps.reduce((s, x) => s + x.ms, 0) + ch.maxLagMs;
  const dt = 1000 / ch.fps;
  const times: number[] = [];
  for (let t = 0; t <= duration; t += dt) times.push(Math.max(0, Math.round(t + uniform(timing, -5, 5))));
  const lag = kind === 'late_response' ? uniform(rng, 600, 900) : uniform(rng, 40, 180);
  const gain = uniform(rng, 0.15, 0.8);
  const live = kind === 'bona_fide' || kind === 'replay_other_sequence' || kind === 'late_response' || kind === 'injected_still';
  // Someone answering FLASHING faces the screen; a pictured face can be turned any way.
  const sources = live ? faces.filter((f) => Math.abs(f.pose.yaw) < 15) : faces;
  const src = sources[Math.floor(rng.next() * sources.length)]!;
  const cam0 = randomCamera(rng);
  // auto-exposure settles on the average brightness over the sequence (the page cannot lock it everywhere)
  const cam = { ...cam0, gain: cam0.gain / (1 + 0.5 * gain), blur: uniform(rng, 0.2, 0.4), shot: uniform(rng, 0.0001, 0.0008), read: uniform(rng, 0.002, 0.006) };
  const room = downsample(renderRoom(rng, CAM_W, CAM_H, {}));
  const canvases: Canvas[] = [];
  let face: FaceGeometry;
  const mid = Math.floor(times.length / 2);
  const flashAt = (t: number): Colour => flashColourAt(shown, t - lag) as Colour;
  if (live) {
    const person = makePerson(rng, src, { faceWidth: uniform(rng, 150, 240) });
    const p = { ...person, base: { ...person.base, cx: person.base.cx * ZOOM, cy: person.base.cy * ZOOM, scale: person.base.scale * ZOOM } };
    const motion = liveMotion(rng, uniform(rng, 0.3, 1.5));
    for (let i = 0; i < times.length; i++) {
      const t = kind === 'injected_still' ? 0 : times[i]!;
      const c = cloneCanvas(room);
      const pose = motion.pose(t, p.base);
      const body = motion.body(t);
      const light = kind === 'injected_still' ? p.light : { ...p.light, flash: flashAt(t), flashGain: gain };
      renderPerson(c, p, pose, { dx: body.dx * ZOOM, dy: body.dy * ZOOM }, light);
      canvases.push(c);
    }
    face = { box: headLandmarks(p.head, motion.pose(kind === 'injected_still' ? 0 : times[mid]!, p.base)).box };
  } else {
    const inst = buildInstrument(rng, kind === 'print' ? 'print' : 'phone', src, times, { video: false, handheld: true, faceWidth: [150, 230] });
    for (let i = 0; i < times.length; i++) canvases.push(renderInstrument(inst, i, ZOOM, room, { colour: flashAt(times[i]!), gain }));
    face = { box: inst.faceBox(mid, ZOOM) };
  }
  const frames: Frame[] = [];
  const q = opts.jpegQuality === undefined ? 85 : opts.jpegQuality;
  let still: Frame['image'] | null = null;
  for (let i = 0; i < canvases.length; i++) {
    let img: Frame['image'] = kind === 'injected_still' && still ? still : capture(canvases[i]!, cam, rng);
    if (q !== null && !(kind === 'injected_still' && still)) img = await decodeRgb(await encodeJpeg(img, q));
    if (kind === 'injected_still') still ??= img;
    frames.push({ image: img, t: times[i]! });
  }
  return { kind, attack: kind !== 'bona_fide', challenge: ch, frames, face, meta: { lagMs: Math.round(lag), flashGain: Math.round(gain * 100) / 100, source: src.file } };
}
