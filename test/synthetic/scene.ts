/**
 * Bona fide stand-ins: a person (head from ./head.ts, hair, neck, shoulders) in a synthetic room,
 * seen by a synthetic camera (optics blur, Bayer mosaic and demosaic, shot and read noise).
 * Rooms include the straight-edged things real rooms have (doors, windows, picture frames,
 * shelves, a monitor or TV behind the person), so the border signal is measured against them.
 */
import type { Box, Point, RgbImage } from '../../src/liveness/types.ts';
import { chance, int, normal, pick, uniform, type Rng } from '../../src/liveness/rng.ts';
import { blend, blurCanvas, canvas, cloneCanvas, drawEllipse, drawRect, fillGradient, mix, scale, smoothNoise, toRgbImage, type Canvas, type Colour } from './canvas.ts';
import { buildHead, headLandmarks, renderHead, type FaceSource, type HeadModel, type HeadPose, type Lighting } from './head.ts';

export const CAM_W = 640;
export const CAM_H = 480;
/** Focal length of the synthetic camera, pixels (≈ 56° horizontal field of view at 640 px). */
export const FOCAL = 600;

const SKIN: Colour[] = [
  [0.98, 0.8, 0.68], [0.93, 0.74, 0.6], [0.86, 0.64, 0.5], [0.78, 0.56, 0.42], [0.62, 0.43, 0.32], [0.5, 0.34, 0.25], [0.95, 0.78, 0.7],
];
const HAIR: Colour[] = [[0.08, 0.06, 0.05], [0.2, 0.13, 0.08], [0.35, 0.24, 0.14], [0.6, 0.48, 0.3], [0.75, 0.62, 0.4], [0.45, 0.42, 0.4]];
const WALL: Colour[] = [[0.85, 0.83, 0.78], [0.7, 0.72, 0.75], [0.78, 0.7, 0.6], [0.55, 0.6, 0.55], [0.9, 0.9, 0.9], [0.45, 0.42, 0.4], [0.65, 0.55, 0.5]];

export function skinTone(rng: Rng): Colour {
  const s = pick(rng, SKIN);
  return [s[0] * uniform(rng, 0.95, 1.05), s[1] * uniform(rng, 0.95, 1.05), s[2] * uniform(rng, 0.93, 1.07)];
}

function jitter(rng: Rng, c: Colour, a: number): Colour {
  return [c[0] * uniform(rng, 1 - a, 1 + a), c[1] * uniform(rng, 1 - a, 1 + a), c[2] * uniform(rng, 1 - a, 1 + a)];
}

function randomColour(rng: Rng, lo = 0.05, hi = 0.9): Colour {
  return [uniform(rng, lo, hi), uniform(rng, lo, hi), uniform(rng, lo, hi)];
}

export interface RoomOptions {
  /** Put a straight-edged object (door frame, monitor, window, picture) right behind where the head will be. */
  confounder?: boolean;
  /** Head centre, to place the confounder. */
  around?: Point;
  headSize?: number;
}

/** A room background (already blurred by depth of field). */
export function renderRoom(rng: Rng, w: number, h: number, opts: RoomOptions = {}): Canvas {
  const c = canvas(w, h);
  const wall = jitter(rng, pick(rng, WALL), 0.08);
  fillGradient(c, scale(wall, uniform(rng, 0.85, 1.15)), scale(wall, uniform(rng, 0.6, 1.0)));
  // low-frequency illumination
  const n = smoothNoise(rng, w, h, uniform(rng, 1.5, 4));
  const amp = uniform(rng, 0.03, 0.12);
  for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++) c.data[i * 3 + k]! *= 1 + amp * n[i]!;
  if (chance(rng, 0.4)) {
    // wall corner or ceiling line
    const x = uniform(rng, 0, w);
    drawRect(c, x + w, h / 2, 2 * w, 2 * h, uniform(rng, -0.05, 0.05), scale(wall, uniform(rng, 0.7, 0.9)), 1);
  }
  // surface texture (plaster, wallpaper, fabric): real walls are rarely perfectly smooth
  const fine = smoothNoise(rng, w, h, uniform(rng, 40, 120));
  const famp = uniform(rng, 0.01, 0.06);
  for (let i = 0; i < w * h; i++) for (let k = 0; k < 3; k++) c.data[i * 3 + k]! *= 1 + famp * fine[i]!;
  const objects = int(rng, 1, 6);
  for (let i = 0; i < objects; i++) drawObject(rng, c, uniform(rng, 0, w), uniform(rng, 0, h), uniform(rng, 60, 260));
  if (opts.confounder && opts.around) {
    const s = opts.headSize ?? 160;
    drawObject(rng, c, opts.around.x + uniform(rng, -0.3, 0.3) * s, opts.around.y + uniform(rng, -0.2, 0.3) * s, s * uniform(rng, 1.4, 2.6), true);
  }
  const dof = uniform(rng, 0.4, 2.8);
  return blurCanvas(c, dof);
}

function drawObject(rng: Rng, c: Canvas, cx: number, cy: number, size: number, framed = false): void {
  const kind = framed ? pick(rng, ['door', 'monitor', 'window', 'picture'] as const) : pick(rng, ['door', 'window', 'picture', 'shelf', 'monitor', 'plant', 'lamp'] as const);
  const ang = uniform(rng, -0.04, 0.04);
  const frame = randomColour(rng, 0.1, 0.9);
  if (kind === 'door') {
    const dw = size * 0.7, dh = size * 2.2;
    drawRect(c, cx, cy + size * 0.3, dw + 14, dh + 14, ang, frame);
    drawRect(c, cx, cy + size * 0.3, dw, dh, ang, jitter(rng, frame, 0.2));
  } else if (kind === 'window') {
    const ww = size, wh = size * uniform(rng, 0.7, 1.3);
    drawRect(c, cx, cy, ww + 16, wh + 16, ang, frame);
    const sky: Colour = [uniform(rng, 0.8, 1), uniform(rng, 0.85, 1), 1];
    drawRect(c, cx, cy, ww, wh, ang, sky);
    drawRect(c, cx, cy, 6, wh, ang, frame);
  } else if (kind === 'picture') {
    const pw = size * uniform(rng, 0.5, 1), ph = size * uniform(rng, 0.5, 1);
    drawRect(c, cx, cy, pw + 12, ph + 12, ang, frame);
    const n = smoothNoise(rng, 32, 32, 3);
    const a = randomColour(rng), b = randomColour(rng);
    drawRect(c, cx, cy, pw, ph, ang, (x, y) => mix(a, b, 0.5 + 0.3 * n[(Math.abs(Math.floor(y)) % 32) * 32 + (Math.abs(Math.floor(x)) % 32)]!));
  } else if (kind === 'shelf') {
    drawRect(c, cx, cy, size * 2, 10, ang, frame);
    for (let i = 0; i < 6; i++) drawRect(c, cx - size + i * size * 0.3, cy - 22, size * 0.12, 34, 0, randomColour(rng));
  } else if (kind === 'monitor') {
    const mw = size * 1.2, mh = size * 0.75;
    drawRect(c, cx, cy, mw + 18, mh + 18, ang, [0.06, 0.06, 0.07], 1, 4);
    drawRect(c, cx, cy, mw, mh, ang, chance(rng, 0.5) ? [0.1, 0.12, 0.15] : randomColour(rng, 0.2, 0.8));
  } else if (kind === 'plant') {
    const g: Colour = [uniform(rng, 0.1, 0.3), uniform(rng, 0.3, 0.55), uniform(rng, 0.1, 0.25)];
    for (let i = 0; i < 8; i++) drawEllipse(c, cx + normal(rng) * size * 0.25, cy + normal(rng) * size * 0.2, size * 0.18, size * 0.08, uniform(rng, 0, 3), jitter(rng, g, 0.3));
  } else {
    drawEllipse(c, cx, cy, size * 0.25, size * 0.2, 0, [1, 0.97, 0.85], 1, 6);
  }
}

export interface Person {
  head: HeadModel;
  hair: Colour;
  hairVolume: number;
  cloth: Colour;
  shoulders: number;
  light: Lighting;
  /** Frontal placement. */
  base: HeadPose;
}

export interface PersonOptions {
  /** Face width in camera pixels (ellipse width). */
  faceWidth?: number;
  centre?: Point;
  width?: number;
  height?: number;
}

export function makePerson(rng: Rng, src: FaceSource, opts: PersonOptions = {}): Person {
  const head = buildHead(src, skinTone(rng));
  const w = opts.width ?? CAM_W, h = opts.height ?? CAM_H;
  const faceWidth = opts.faceWidth ?? uniform(rng, 0.2, 0.36) * w;
  const scale = faceWidth / (2 * head.ea);
  const cx = opts.centre?.x ?? w / 2 + uniform(rng, -0.1, 0.1) * w;
  const cy = opts.centre?.y ?? h * uniform(rng, 0.38, 0.5);
  const lx = uniform(rng, -0.7, 0.7), ly = uniform(rng, -0.6, 0.3);
  const lz = Math.sqrt(Math.max(0.1, 1 - lx * lx - ly * ly));
  return {
    head,
    hair: jitter(rng, pick(rng, HAIR), 0.1),
    hairVolume: uniform(rng, 1.05, 1.3),
    cloth: randomColour(rng, 0.05, 0.85),
    shoulders: uniform(rng, 2.6, 3.6),
    light: { ambient: uniform(rng, 0.35, 0.7), diffuse: uniform(rng, 0.4, 0.8), dir: [lx, ly, lz] },
    base: { yaw: uniform(rng, -6, 6), pitch: uniform(rng, -5, 5), roll: uniform(rng, -5, 5), cx, cy, scale, dist: uniform(rng, 2.5, 5.5) },
  };
}

export interface BodyMotion {
  /** Torso offset (breathing, sway), camera pixels. */
  dx: number;
  dy: number;
}

/** Draw hair, neck, torso and face of the person at a pose onto the canvas (background already there). */
export function renderPerson(c: Canvas, p: Person, pose: HeadPose, body: BodyMotion = { dx: 0, dy: 0 }, light: Lighting = p.light): void {
  const h = p.head;
  const fw = 2 * h.ea * p.base.scale;
  const fh = 2 * h.eb * p.base.scale;
  const bx = p.base.cx + body.dx, by = p.base.cy + body.dy;
  // torso (shoulders) and neck: move with the body, not with the head
  drawEllipse(c, bx, by + fh * 0.5 + fw * 1.6, (fw * p.shoulders) / 2, fw * 1.5, 0, p.cloth, 1, 1.5);
  drawRect(c, bx, by + fh * 0.55, fw * 0.55, fh * 0.7, 0, scale(h.tone, 0.75 * lumScale(light)), 1, fw * 0.1);
  drawEllipse(c, bx, by + fh * 0.5 + fw * 0.35, fw * 0.32, fw * 0.12, 0, scale(p.cloth, 0.7), 1, 2);
  // hair and the sides of the head: centred on the rotation pivot (the face surface swings around it)
  const roll = (pose.roll * Math.PI) / 180;
  const pitchShift = -Math.sin((pose.pitch * Math.PI) / 180) * fh * 0.1;
  drawEllipse(c, pose.cx, pose.cy - fh * 0.12 + pitchShift, (fw / 2) * p.hairVolume, (fh / 2) * p.hairVolume * 1.02, roll, p.hair, 1, 2);
  const side = scale(h.tone, 0.55 * lumScale(light));
  drawEllipse(c, pose.cx, pose.cy + fh * 0.08 + pitchShift, fw * 0.47, fh * 0.4, roll, side, 1, 3);
  renderHead(c, h, pose, light);
}

function lumScale(l: Lighting): number {
  return Math.min(1.2, l.ambient + 0.5 * l.diffuse);
}

// ---------------------------------------------------------------------------------------------
// camera

export interface CameraParams {
  blur: number;
  gain: number;
  wb: Colour;
  /** Shot-noise factor and read-noise sigma (0..1 units). */
  shot: number;
  read: number;
  sharpen: number;
  vignette: number;
}

export function randomCamera(rng: Rng): CameraParams {
  return {
    blur: uniform(rng, 0.3, 0.7),
    gain: uniform(rng, 0.85, 1.15),
    wb: [uniform(rng, 0.92, 1.08), 1, uniform(rng, 0.9, 1.1)],
    shot: uniform(rng, 0.0004, 0.003),
    read: uniform(rng, 0.004, 0.012),
    sharpen: uniform(rng, 0, 0.6),
    vignette: uniform(rng, 0, 0.25),
  };
}

const GAUSS = (() => {
  // A fixed table of standard normal values, indexed by a fast xorshift: noise is cheap and still seeded.
  const r = { s: 0x1234567 };
  const t = new Float32Array(1 << 16);
  for (let i = 0; i < t.length; i += 2) {
    r.s ^= r.s << 13; r.s ^= r.s >>> 17; r.s ^= r.s << 5;
    const u1 = ((r.s >>> 0) + 1) / 4294967297;
    r.s ^= r.s << 13; r.s ^= r.s >>> 17; r.s ^= r.s << 5;
    const u2 = (r.s >>> 0) / 4294967296;
    const m = Math.sqrt(-2 * Math.log(u1));
    t[i] = m * Math.cos(2 * Math.PI * u2);
    t[i + 1] = m * Math.sin(2 * Math.PI * u2);
  }
  return t;
})();

/** Scene radiance → 8-bit frame: optics, exposure, Bayer RGGB mosaic with noise, bilinear demosaic, sharpening. */
export function capture(scene: Canvas, cam: CameraParams, rng: Rng): RgbImage {
  const c = blurCanvas(scene, cam.blur);
  const { width: w, height: h } = c;
  const raw = new Float32Array(w * h);
  const cx = w / 2, cy = h / 2, rr = cx * cx + cy * cy;
  let st = (Math.floor(rng.next() * 4294967296) | 1) >>> 0;
  const read2 = cam.read * cam.read;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const ch = (y & 1) === 0 ? ((x & 1) === 0 ? 0 : 1) : (x & 1) === 0 ? 1 : 2;
      const vig = 1 - cam.vignette * (((x - cx) ** 2 + (y - cy) ** 2) / rr);
      let v = c.data[(y * w + x) * 3 + ch]! * cam.gain * cam.wb[ch]! * vig;
      st ^= st << 13; st ^= st >>> 17; st ^= st << 5;
      v += GAUSS[(st >>> 0) & 0xffff]! * Math.sqrt(cam.shot * (v > 0 ? v : 0) + read2);
      raw[y * w + x] = v;
    }
  }
  const out = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const ym = y === 0 ? 1 : y - 1, yp = y === h - 1 ? h - 2 : y + 1;
    const even = (y & 1) === 0;
    for (let x = 0; x < w; x++) {
      const xm = x === 0 ? 1 : x - 1, xp = x === w - 1 ? w - 2 : x + 1;
      const evenX = (x & 1) === 0;
      const v = raw[y * w + x]!;
      const l = raw[y * w + xm]!, r0 = raw[y * w + xp]!, u = raw[ym * w + x]!, d = raw[yp * w + x]!;
      let r: number, g: number, b: number;
      if (even && evenX) { r = v; g = (l + r0 + u + d) / 4; b = (raw[ym * w + xm]! + raw[ym * w + xp]! + raw[yp * w + xm]! + raw[yp * w + xp]!) / 4; }
      else if (!even && !evenX) { b = v; g = (l + r0 + u + d) / 4; r = (raw[ym * w + xm]! + raw[ym * w + xp]! + raw[yp * w + xm]! + raw[yp * w + xp]!) / 4; }
      else if (even) { g = v; r = (l + r0) / 2; b = (u + d) / 2; }
      else { g = v; b = (l + r0) / 2; r = (u + d) / 2; }
      const o = (y * w + x) * 3;
      out[o] = r; out[o + 1] = g; out[o + 2] = b;
    }
  }
  let result: Canvas = { width: w, height: h, data: out };
  if (cam.sharpen > 0.05) {
    const soft = blurCanvas(result, 1);
    for (let i = 0; i < out.length; i++) out[i] = out[i]! + cam.sharpen * (out[i]! - soft.data[i]!);
    result = { width: w, height: h, data: out };
  }
  return toRgbImage(result);
}

/** A global small similarity warp of a scene (hand-held camera shake). */
export function shake(scene: Canvas, dx: number, dy: number, rotDeg: number): Canvas {
  if (Math.abs(dx) < 1e-3 && Math.abs(dy) < 1e-3 && Math.abs(rotDeg) < 1e-4) return cloneCanvas(scene);
  const { width: w, height: h } = scene;
  const out = canvas(w, h);
  const a = (rotDeg * Math.PI) / 180, cos = Math.cos(a), sin = Math.sin(a);
  const cx = w / 2, cy = h / 2;
  const px: Colour = [0, 0, 0];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const X = x - cx - dx, Y = y - cy - dy;
      const sx = cos * X + sin * Y + cx, sy = -sin * X + cos * Y + cy;
      sampleInto(scene, sx, sy, px);
      blend(out, y * w + x, px, 1);
    }
  }
  return out;
}

function sampleInto(c: Canvas, x: number, y: number, out: Colour): void {
  const w = c.width, h = c.height;
  if (x < 0) x = 0; else if (x > w - 1.001) x = w - 1.001;
  if (y < 0) y = 0; else if (y > h - 1.001) y = h - 1.001;
  const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
  for (let k = 0; k < 3; k++) {
    const i = (y0 * w + x0) * 3 + k;
    out[k] = (c.data[i]! * (1 - fx) + c.data[i + 3]! * fx) * (1 - fy) + (c.data[i + w * 3]! * (1 - fx) + c.data[i + w * 3 + 3]! * fx) * fy;
  }
}

export { headLandmarks };
export type { Box };
