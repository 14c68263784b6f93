/**
 * The synthetic PASSIVE set: bona fide stand-ins and presentation attacks, each as a session the
 * capture page would upload — one 640×480 still (JPEG) and a ~1 s burst of 320×240 frames with
 * timestamps — plus the ground-truth face box (what the face engine would report). Deterministic
 * for a (kind, seed). Not tuned to any real clip; parameters are drawn from wide physical ranges.
 */
import type { Box, FaceGeometry, Frame, Point, RgbImage } from '../../src/liveness/types.ts';
import { chance, int, pick, uniform, seededRng, type Rng } from '../../src/liveness/rng.ts';
import { canvas, cloneCanvas, drawEllipse, type Canvas, type Colour } from './canvas.ts';
import { headLandmarks, type FaceSource, type HeadPose } from './head.ts';
import { contentBoxToImage, drawDevice, planeToImage, poseMatrix, type DeviceSpec, type Intrinsics, type PlanePose, type PrintLook, type ScreenLook } from './plane.ts';
import { CAM_H, CAM_W, FOCAL, capture, makePerson, randomCamera, renderPerson, renderRoom, shake, skinTone, type CameraParams, type Person } from './scene.ts';
import { decodeRgb, encodeJpeg } from '../../src/liveness/image.ts';

export const ATTACK_TYPES = ['print_handheld', 'print_static', 'phone_photo', 'phone_video', 'monitor_photo', 'monitor_video', 'injected_still'] as const;
export type AttackType = (typeof ATTACK_TYPES)[number];
export type SampleKind = 'bona_fide' | AttackType;

export const BURST_FRAMES = 12;
export const BURST_INTERVAL_MS = 80;
export const BURST_W = 320;
export const BURST_H = 240;

export interface PassiveSample {
  kind: SampleKind;
  attack: boolean;
  seed: number;
  /** Face image the sample was made from. */
  file: string;
  still: RgbImage;
  stillFace: FaceGeometry;
  burst: Frame[];
  /** Face in the burst frame at captureIndex (burst pixels). */
  burstFace: FaceGeometry;
  captureIndex: number;
  meta: Record<string, number | string | boolean>;
  /** The encoded uploads (what the capture page sends), when JPEG is on. */
  stillJpeg: Buffer | null;
  burstJpeg: Buffer[] | null;
}

export interface GenerateOptions {
  frames?: number;
  intervalMs?: number;
  /** JPEG quality of the still (default: random 78..95); the burst frames use 85. null: no JPEG. */
  stillQuality?: number | null;
  burstQuality?: number | null;
  /** Override camera parameters (experiments: e.g. no noise). */
  camera?: Partial<CameraParams>;
  /**
   * PASSIVE with screen light (the data set's default, bench/liveness/generate.ts): the capture page modulates the brightness of
   * the screen around the viewfinder during the burst, white (1) or dark grey (SCREEN_LIGHT.dark)
   * per burst frame. Absent: the output is byte-identical to a generation without it.
   */
  screenLight?: ScreenLightOptions;
}

export interface ScreenLightOptions {
  /** 0 (dark grey) or 1 (white) per burst frame; the page shows pattern[i] from the moment frame i − 1 is taken. */
  pattern: readonly number[];
  /** Light on a face in front of the screen at full white, in the units of FLASHING's flashGain (default: random SCREEN_LIGHT.gain). */
  gain?: number;
}

/**
 * The page's background is far dimmer than FLASHING's full-screen colour: the viewfinder covers
 * about half of the screen, the page cannot force maximum brightness, and the dark level is a grey,
 * not black. A quarter of FLASHING's 0.15–0.8 light on the face.
 */
export const SCREEN_LIGHT = {
  gain: [0.0375, 0.2] as const,
  /** Dark grey (#404040 ≈ 0.05 linear) relative to white. */
  dark: 0.05,
  /** The page's background before the burst (its usual white). */
  rest: 1,
  /** Screen + camera lag (ms) and exposure time (ms) over which the frame integrates the light. */
  lagMs: [40, 180] as const,
  exposureMs: [8, 33] as const,
} as const;

/** The screen's light level (0..1, relative to white) integrated by the frame taken at `t`. */
export function screenLevelAt(pattern: readonly number[], intervalMs: number, t: number, lagMs: number, exposureMs: number): number {
  const shown = (s: number): number => {
    const i = Math.floor(s / intervalMs) + 1; // pattern[i] is shown from one interval before frame i
    const on = i < 0 ? SCREEN_LIGHT.rest : pattern[Math.min(pattern.length - 1, i)]!;
    return on ? 1 : SCREEN_LIGHT.dark;
  };
  let v = 0;
  const n = 8;
  for (let k = 0; k < n; k++) v += shown(t - lagMs - ((k + 0.5) / n) * exposureMs);
  return v / n;
}

/** A smooth random 1D trajectory with amplitude `a`: sum of two sinusoids of random frequency/phase. */
export function wobble(rng: Rng, a: number, fLo = 0.3, fHi = 1.6): (tMs: number) => number {
  const f1 = uniform(rng, fLo, fHi), f2 = uniform(rng, fLo, fHi);
  const p1 = uniform(rng, 0, 2 * Math.PI), p2 = uniform(rng, 0, 2 * Math.PI);
  const w = uniform(rng, 0.3, 0.7);
  return (t) => a * (w * Math.sin(2 * Math.PI * f1 * (t / 1000) + p1) + (1 - w) * Math.sin(2 * Math.PI * f2 * (t / 1000) + p2));
}

const intrinsics = (zoom: number): Intrinsics => ({ f: FOCAL * zoom, cx: (CAM_W * zoom) / 2, cy: (CAM_H * zoom) / 2, width: CAM_W * zoom, height: CAM_H * zoom });

function downsample2(c: Canvas): Canvas {
  const w = Math.floor(c.width / 2), h = Math.floor(c.height / 2);
  const out = canvas(w, h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < 3; k++) {
    const i = ((2 * y) * c.width + 2 * x) * 3 + k;
    out.data[(y * w + x) * 3 + k] = (c.data[i]! + c.data[i + 3]! + c.data[i + c.width * 3]! + c.data[i + c.width * 3 + 3]!) / 4;
  }
  return out;
}

function burstCamera(cam: CameraParams): CameraParams {
  return { ...cam, blur: cam.blur * 0.6, shot: cam.shot / 4, read: cam.read / 2 };
}

function scalePerson(p: Person, zoom: number): Person {
  return { ...p, base: { ...p.base, cx: p.base.cx * zoom, cy: p.base.cy * zoom, scale: p.base.scale * zoom } };
}

function scalePose(pose: HeadPose, zoom: number): HeadPose {
  return { ...pose, cx: pose.cx * zoom, cy: pose.cy * zoom, scale: pose.scale * zoom };
}

function pickFace(rng: Rng, faces: readonly FaceSource[], maxYaw = 25): FaceSource {
  const ok = faces.filter((f) => Math.abs(f.pose.yaw) <= maxYaw);
  return pick(rng, ok.length ? ok : faces);
}

/** Micro-motion of a live person: head pose, head translation and body sway as functions of time. */
export interface LiveMotion {
  pose(t: number, base: HeadPose): HeadPose;
  body(t: number): { dx: number; dy: number };
}

export function liveMotion(rng: Rng, amplitude = uniform(rng, 0.4, 2.5)): LiveMotion {
  const yaw = wobble(rng, amplitude), pitch = wobble(rng, amplitude * 0.7), roll = wobble(rng, amplitude * 0.5);
  const tx = wobble(rng, uniform(rng, 0.4, 3)), ty = wobble(rng, uniform(rng, 0.3, 2));
  const bx = wobble(rng, uniform(rng, 0.1, 1), 0.2, 0.6), by = wobble(rng, uniform(rng, 0.2, 1.2), 0.2, 0.5);
  return {
    pose: (t, b) => ({ ...b, yaw: b.yaw + yaw(t), pitch: b.pitch + pitch(t), roll: b.roll + roll(t), cx: b.cx + tx(t), cy: b.cy + ty(t) }),
    body: (t) => ({ dx: bx(t), dy: by(t) }),
  };
}

/** Render one selfie-like picture of a person (used as the content shown on a screen or printed). */
function contentPicture(rng: Rng, src: FaceSource, w: number, h: number, faceFrac: number): { person: Person; room: Canvas; cam: CameraParams } {
  const person = makePerson(rng, src, { faceWidth: faceFrac * w, centre: { x: w / 2 + uniform(rng, -0.05, 0.05) * w, y: h * uniform(rng, 0.36, 0.46) }, width: w, height: h });
  const room = renderRoom(rng, w, h, {});
  return { person, room, cam: { ...randomCamera(rng), blur: uniform(rng, 0.3, 0.6) } };
}

function renderContent(c: { person: Person; room: Canvas; cam: CameraParams }, pose: HeadPose, body: { dx: number; dy: number }, rng: Rng): Canvas {
  const k = cloneCanvas(c.room);
  renderPerson(k, c.person, pose, body);
  const img = capture(k, c.cam, rng);
  const out = canvas(img.width, img.height);
  for (let i = 0; i < img.data.length; i++) out.data[i] = img.data[i]! / 255;
  return out;
}

function faceOf(lmBox: { landmarks: Point[]; box: Box }): FaceGeometry {
  return { box: lmBox.box, landmarks: lmBox.landmarks };
}

export async function generatePassiveSample(kind: SampleKind, seed: number, faces: readonly FaceSource[], opts: GenerateOptions = {}): Promise<PassiveSample> {
  const rng = seededRng(seed * 7919 + kind.length * 104729 + kind.charCodeAt(0));
  // under a screen-light pattern the page takes one frame per pattern value
  const nFrames = opts.frames ?? opts.screenLight?.pattern.length ?? BURST_FRAMES;
  const interval = opts.intervalMs ?? BURST_INTERVAL_MS;
  const captureIndex = Math.floor(nFrames / 2);
  // A seed is one scene whatever the burst's length (the screen-light pattern sets it): the first
  // BURST_FRAMES timing jitters come from the scene's generator as they always did, any further ones
  // from their own, so that a 16-frame burst films the same person, room and camera as a 12-frame one
  const extra = seededRng(seed * 7919 + kind.length * 104729 + kind.charCodeAt(0) + 0x7e11);
  const times = Array.from({ length: nFrames }, (_, i) => Math.round(i * interval + uniform(i < BURST_FRAMES ? rng : extra, -4, 4)));
  times[0] = 0;
  const stillQuality = opts.stillQuality === undefined ? int(rng, 78, 95) : opts.stillQuality;
  const burstQuality = opts.burstQuality === undefined ? 85 : opts.burstQuality;
  const cam = { ...randomCamera(rng), ...opts.camera };
  const bcam = burstCamera(cam);
  const meta: Record<string, number | string | boolean> = {};
  // screen light: drawn from its own generator so that everything else stays as without it
  const sl = opts.screenLight ? (() => {
    const lr = seededRng(seed * 7919 + kind.length * 104729 + kind.charCodeAt(0) + 0x51c4);
    const gain = opts.screenLight!.gain ?? uniform(lr, SCREEN_LIGHT.gain[0], SCREEN_LIGHT.gain[1]);
    const lag = uniform(lr, SCREEN_LIGHT.lagMs[0], SCREEN_LIGHT.lagMs[1]), exposure = uniform(lr, SCREEN_LIGHT.exposureMs[0], SCREEN_LIGHT.exposureMs[1]);
    const levels = times.map((t) => screenLevelAt(opts.screenLight!.pattern, interval, t, lag, exposure));
    meta.screenGain = Math.round(gain * 1000) / 1000; meta.screenLagMs = Math.round(lag); meta.screenExposureMs = Math.round(exposure);
    return { gain, levels };
  })() : null;
  /** Screen light on the frame taken at burst index i (the still: captureIndex). */
  const flashOf = (i: number): { colour: Colour; gain: number } | undefined => (sl ? { colour: [sl.levels[i]!, sl.levels[i]!, sl.levels[i]!], gain: sl.gain } : undefined);
  let stillCanvas: Canvas;
  let stillFace: FaceGeometry;
  const burstCanvases: Canvas[] = [];
  let burstFace: FaceGeometry;
  let file: string;

  if (kind === 'bona_fide') {
    const src = pickFace(rng, faces);
    file = src.file;
    const person = makePerson(rng, src, { faceWidth: uniform(rng, 130, 240) });
    const confounder = chance(rng, 0.4);
    const room = renderRoom(rng, CAM_W, CAM_H, { confounder, around: { x: person.base.cx, y: person.base.cy }, headSize: 2 * person.head.ea * person.base.scale });
    const room2 = downsample2(room);
    const motion = liveMotion(rng);
    const handheld = chance(rng, 0.3);
    const shx = wobble(rng, handheld ? uniform(rng, 0.5, 4) : 0), shy = wobble(rng, handheld ? uniform(rng, 0.5, 3) : 0), shr = wobble(rng, handheld ? uniform(rng, 0.05, 0.4) : 0);
    meta.confounder = confounder; meta.handheld = handheld;
    const tCap = times[captureIndex]!;
    const frame = (t: number, zoom: number, base: Canvas, i: number): Canvas => {
      const c = cloneCanvas(base);
      const p = zoom === 1 ? person : scalePerson(person, zoom);
      const pose = scalePose(motion.pose(t, person.base), zoom);
      const body = motion.body(t);
      const fl = flashOf(i);
      if (fl) renderPerson(c, p, pose, { dx: body.dx * zoom, dy: body.dy * zoom }, { ...p.light, flash: fl.colour, flashGain: fl.gain });
      else renderPerson(c, p, pose, { dx: body.dx * zoom, dy: body.dy * zoom });
      return handheld ? shake(c, shx(t) * zoom, shy(t) * zoom, shr(t)) : c;
    };
    stillCanvas = frame(tCap, 1, room, captureIndex);
    stillFace = faceOf(headLandmarks(person.head, motion.pose(tCap, person.base)));
    times.forEach((t, i) => burstCanvases.push(frame(t, 0.5, room2, i)));
    burstFace = faceOf(headLandmarks(person.head, scalePose(motion.pose(tCap, person.base), 0.5)));
    if (handheld) {
      // the shake moves the whole picture; the ground-truth box follows it approximately
      stillFace = { box: { ...stillFace.box, x: stillFace.box.x + shx(tCap), y: stillFace.box.y + shy(tCap) } };
      burstFace = { box: { ...burstFace.box, x: burstFace.box.x + shx(tCap) / 2, y: burstFace.box.y + shy(tCap) / 2 } };
    }
  } else {
    const src = pickFace(rng, faces);
    file = src.file;
    const device = kind.startsWith('print') ? 'print' : kind.startsWith('phone') ? 'phone' : kind.startsWith('monitor') ? 'monitor' : 'none';
    if (device === 'none') {
      // injected still (virtual camera): one good-looking selfie repeated bit-exactly
      const person = makePerson(rng, src, { faceWidth: uniform(rng, 130, 240) });
      const room = renderRoom(rng, CAM_W, CAM_H, {});
      const c = cloneCanvas(room);
      renderPerson(c, person, person.base);
      stillCanvas = c;
      stillFace = faceOf(headLandmarks(person.head, person.base));
      const c2 = downsample2(c);
      for (let i = 0; i < nFrames; i++) burstCanvases.push(c2);
      burstFace = faceOf(headLandmarks(person.head, scalePose(person.base, 0.5)));
      meta.identical = true;
    } else {
      const video = kind.endsWith('video');
      const handheld = kind === 'print_handheld' || kind.startsWith('phone');
      const inst = buildInstrument(rng, device, src, times, { video, handheld, still: kind === 'print_static' });
      Object.assign(meta, inst.meta);
      const room = renderRoom(rng, CAM_W, CAM_H, {});
      const room2 = downsample2(room);
      stillCanvas = renderInstrument(inst, captureIndex, 1, room, flashOf(captureIndex));
      stillFace = { box: inst.faceBox(captureIndex, 1) };
      for (let i = 0; i < nFrames; i++) burstCanvases.push(renderInstrument(inst, i, 0.5, room2, flashOf(i)));
      burstFace = { box: inst.faceBox(captureIndex, 0.5) };
    }
  }
  const still0 = capture(stillCanvas, cam, rng);
  const stillJpeg = stillQuality === null ? null : await encodeJpeg(still0, stillQuality);
  const still = stillJpeg ? await decodeRgb(stillJpeg) : still0;
  const burst: Frame[] = [];
  const burstJpeg: Buffer[] = [];
  let first: { img: RgbImage; jpeg: Buffer | null } | null = null;
  for (let i = 0; i < burstCanvases.length; i++) {
    let cur: { img: RgbImage; jpeg: Buffer | null };
    if (kind === 'injected_still' && first) cur = first;
    else {
      const raw = capture(burstCanvases[i]!, bcam, rng);
      const jpeg = burstQuality === null ? null : await encodeJpeg(raw, burstQuality);
      cur = { img: jpeg ? await decodeRgb(jpeg) : raw, jpeg };
      first ??= cur;
    }
    burst.push({ image: cur.img, t: times[i]! });
    if (cur.jpeg) burstJpeg.push(cur.jpeg);
  }
  return { kind, attack: kind !== 'bona_fide', seed, file, still, stillFace, burst, burstFace, captureIndex, meta, stillJpeg, burstJpeg: burstJpeg.length ? burstJpeg : null };
}



export interface Instrument {
  spec: DeviceSpec;
  contentFrames: Canvas[];
  contentBoxes: Box[];
  poseAt: (t: number) => PlanePose;
  optics: { fc: number };
  fingers: Finger[] | null;
  skin: Colour;
  video: boolean;
  times: readonly number[];
  meta: Record<string, number | string | boolean>;
  /** Face box in the camera frame for frame i at a zoom (1 = 640×480). */
  faceBox: (i: number, zoom: number) => Box;
}

/**
 * A phone, monitor or printed photo showing the face of `src`, placed in front of the camera, with its
 * hand tremor over `times` (none when not handheld) and, for video, one content frame per time.
 */
export function buildInstrument(
  rng: Rng, device: 'phone' | 'monitor' | 'print', src: FaceSource, times: readonly number[],
  opts: { video: boolean; handheld: boolean; still?: boolean; faceWidth?: [number, number] },
): Instrument {
  const { video, handheld } = opts;
  const meta: Record<string, number | string | boolean> = {};
  const kindPrint = device === 'print';
  // content picture(s)
  let cw: number, ch: number, faceFrac: number;
  if (device === 'phone') { cw = 270; ch = 480; faceFrac = uniform(rng, 0.45, 0.8); }
  else if (device === 'monitor') { cw = 480; ch = 270; faceFrac = uniform(rng, 0.18, 0.4); }
  else if (chance(rng, 0.5)) { cw = 360; ch = 480; faceFrac = uniform(rng, 0.35, 0.7); }
  else { cw = 480; ch = 360; faceFrac = uniform(rng, 0.25, 0.5); }
  const content = contentPicture(rng, src, cw, ch, faceFrac);
  const cmotion = liveMotion(rng);
  const contentFrames: Canvas[] = [];
  const contentBoxes: Box[] = [];
  if (video) {
    for (const t of times) {
      const pose = cmotion.pose(t, content.person.base);
      contentFrames.push(renderContent(content, pose, cmotion.body(t), rng));
      contentBoxes.push(headLandmarks(content.person.head, pose).box);
    }
  } else {
    contentFrames.push(renderContent(content, content.person.base, { dx: 0, dy: 0 }, rng));
    contentBoxes.push(headLandmarks(content.person.head, content.person.base).box);
  }
  // the instrument
  let spec: DeviceSpec;
  const glare = chance(rng, kindPrint ? 0.3 : 0.5);
  if (device === 'phone') {
    const sw = 62, sh = (62 * ch) / cw, bez = uniform(rng, 2.5, 6), top = uniform(rng, 5, 12);
    const look: ScreenLook = {
      kind: 'screen', pitch: uniform(rng, 0.045, 0.07), duty: uniform(rng, 0.25, 0.33), rowFill: uniform(rng, 0.75, 0.92),
      brightness: uniform(rng, 0.85, 1.15), black: uniform(rng, 0.01, 0.05), tint: [uniform(rng, 0.92, 1.0), uniform(rng, 0.97, 1.02), uniform(rng, 1.0, 1.1)], reflection: uniform(rng, 0, 0.05),
    };
    const body: Colour = chance(rng, 0.7) ? [uniform(rng, 0.02, 0.12), uniform(rng, 0.02, 0.12), uniform(rng, 0.02, 0.14)] : [uniform(rng, 0.55, 0.8), uniform(rng, 0.55, 0.8), uniform(rng, 0.55, 0.8)];
    spec = { width: sw + 2 * bez, height: sh + 2 * top, radius: uniform(rng, 4, 10), body, cw: sw, ch: sh, cu: 0, cv: 0, content: contentFrames[0]!, look };
  } else if (device === 'monitor') {
    const sw = uniform(rng, 470, 600), sh = (sw * ch) / cw, bez = uniform(rng, 5, 18);
    const look: ScreenLook = {
      kind: 'screen', pitch: uniform(rng, 0.18, 0.3), duty: uniform(rng, 0.25, 0.33), rowFill: uniform(rng, 0.75, 0.92),
      brightness: uniform(rng, 0.85, 1.15), black: uniform(rng, 0.01, 0.06), tint: [uniform(rng, 0.92, 1.0), uniform(rng, 0.97, 1.02), uniform(rng, 1.0, 1.1)], reflection: uniform(rng, 0, 0.06),
    };
    spec = { width: sw + 2 * bez, height: sh + 2 * bez, radius: 2, body: [uniform(rng, 0.02, 0.15), uniform(rng, 0.02, 0.15), uniform(rng, 0.02, 0.15)], cw: sw, ch: sh, cu: 0, cv: 0, content: contentFrames[0]!, look };
  } else {
    const pw = chance(rng, 0.5) ? uniform(rng, 90, 150) : uniform(rng, 180, 210);
    const margin = chance(rng, 0.5) ? 0 : uniform(rng, 3, 15);
    const iw = pw - 2 * margin, ih = (iw * ch) / cw;
    const look: PrintLook = {
      kind: 'print', saturation: uniform(rng, 0.45, 0.85), black: uniform(rng, 0.05, 0.14), white: uniform(rng, 0.82, 0.93),
      paper: [1, uniform(rng, 0.97, 1), uniform(rng, 0.88, 0.98)], lpmm: chance(rng, 0.5) ? 0 : uniform(rng, 4, 8), grain: uniform(rng, 0.01, 0.04),
      gx: uniform(rng, -0.002, 0.002), gy: uniform(rng, -0.002, 0.002), illumination: uniform(rng, 0.85, 1.2),
    };
    spec = { width: pw, height: ih + 2 * margin, radius: 0.5, body: [0.95, 0.95, 0.92], cw: iw, ch: ih, cu: 0, cv: 0, content: contentFrames[0]!, look };
    meta.halftone = look.lpmm > 0; meta.margin = margin > 0;
  }
  if (glare) spec.glare = { u: uniform(rng, -0.4, 0.4) * spec.width, v: uniform(rng, -0.4, 0.4) * spec.height, ru: uniform(rng, 0.05, 0.4) * spec.width, rv: uniform(rng, 0.03, 0.2) * spec.height, angle: uniform(rng, 0, Math.PI), peak: uniform(rng, 0.15, 0.8) };
  // placement: the displayed face appears F px wide around the centre of the frame
  const F = uniform(rng, opts.faceWidth?.[0] ?? 120, opts.faceWidth?.[1] ?? 230);
  const cb = contentBoxes[0]!;
  const faceMm = (cb.width / cw) * spec.cw;
  const z = (FOCAL * faceMm) / F;
  const fu = ((cb.x + cb.width / 2) / cw - 0.5) * spec.cw, fv = ((cb.y + cb.height / 2) / ch - 0.5) * spec.ch;
  const tilt = handheld ? 14 : 6;
  const base: PlanePose = { yaw: uniform(rng, -tilt, tilt), pitch: uniform(rng, -tilt, tilt), roll: uniform(rng, -tilt * 0.7, tilt * 0.7), x: 0, y: 0, z };
  const tx = uniform(rng, -50, 50), ty = uniform(rng, -50, 30);
  {
    const probe = { ...base, x: 0, y: 0 };
    // solve for the plane centre so that (fu, fv) lands on (cx + tx, cy + ty)
    const p0 = planeToImageRaw(probe, fu, fv);
    const zf = z + p0.z;
    base.x = (tx / FOCAL) * zf - p0.x;
    base.y = (ty / FOCAL) * zf - p0.y;
    base.z = z;
  }
  meta.faceMm = Math.round(faceMm); meta.distanceMm = Math.round(z); meta.glare = glare; meta.handheld = handheld;
  if (spec.look.kind === 'screen') meta.screenPxPerCameraPx = Math.round(((z / FOCAL) / spec.look.pitch) * 100) / 100;
  const trem = handheld ? uniform(rng, 0.5, 4) : 0, rtrem = handheld ? uniform(rng, 0.2, 2) : 0;
  const mx = wobble(rng, trem), my = wobble(rng, trem), mz = wobble(rng, trem), myaw = wobble(rng, rtrem), mpitch = wobble(rng, rtrem), mroll = wobble(rng, rtrem * 0.6);
  const poseAt = (t: number): PlanePose => ({ yaw: base.yaw + myaw(t), pitch: base.pitch + mpitch(t), roll: base.roll + mroll(t), x: base.x + mx(t), y: base.y + my(t), z: base.z + mz(t) });
  const optics = { fc: uniform(rng, 1.2, 3) };
  const fingers = (device !== 'monitor' && !opts.still && chance(rng, 0.6)) ? makeFingers(rng, spec) : null;
  const skin = skinTone(rng);
  return {
    spec, contentFrames, contentBoxes, poseAt, optics, fingers, skin, video, times, meta,
    faceBox: (i: number, zoom: number) => contentBoxToImage(intrinsics(zoom), poseAt(times[i]!), spec, contentBoxes[video ? i : 0]!),
  };
}

/** Draw the instrument (and the fingers holding it) for frame i over a background. */
export function renderInstrument(inst: Instrument, i: number, zoom: number, bg: Canvas, flash?: { colour: Colour; gain: number }): Canvas {
  const c = cloneCanvas(bg);
  const t = inst.times[i]!;
  const s: DeviceSpec = { ...inst.spec, content: inst.contentFrames[inst.video ? i : 0]! };
  const cam = intrinsics(zoom);
  const pose = inst.poseAt(t);
  drawDevice(c, cam, pose, s, inst.optics, flash);
  if (inst.fingers) for (const fg of inst.fingers) {
    const p = planeToImage(cam, pose, fg.u, fg.v);
    drawEllipse(c, p.x, p.y, fg.rw * (cam.f / pose.z), fg.rh * (cam.f / pose.z), fg.angle + (pose.roll * Math.PI) / 180, inst.skin, 1, 1.5);
  }
  return c;
}

function planeToImageRaw(pose: PlanePose, u: number, v: number): { x: number; y: number; z: number } {
  const R = poseMatrix(pose);
  return { x: R[0] * u + R[1] * v, y: R[3] * u + R[4] * v, z: R[6] * u + R[7] * v };
}

interface Finger { u: number; v: number; rw: number; rh: number; angle: number }

function makeFingers(rng: Rng, spec: DeviceSpec): Finger[] {
  const side = pick(rng, ['left', 'right', 'bottom'] as const);
  const n = int(rng, 1, 4);
  const out: Finger[] = [];
  for (let i = 0; i < n; i++) {
    const along = uniform(rng, -0.35, 0.35);
    if (side === 'bottom') out.push({ u: along * spec.width, v: spec.height / 2 - uniform(rng, 0, 8), rw: 8, rh: uniform(rng, 18, 30), angle: uniform(rng, -0.3, 0.3) });
    else out.push({ u: (side === 'left' ? -1 : 1) * (spec.width / 2 - uniform(rng, 0, 8)), v: along * spec.height, rw: uniform(rng, 18, 30), rh: 8, angle: uniform(rng, -0.3, 0.3) });
  }
  return out;
}
