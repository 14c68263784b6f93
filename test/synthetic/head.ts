/**
 * A face crop mapped onto a simple 3D head (ellipsoid + nose ridge + eye sockets) and rendered under
 * any small head pose with perspective and Lambertian shading. This is what gives the bona fide
 * stand-ins parallax (the nose moves against the cheeks when the head turns), micro-motion and
 * 3D shading under a coloured flash; a flat picture rendered by ./plane.ts has none of these.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Box, Point } from '../../src/liveness/types.ts';
import { blend, lum, type Canvas, type Colour } from './canvas.ts';

export interface FaceSource {
  /** `<identity>/<identity><n>.png` */
  file: string;
  identity: string;
  /** Grey texture 0..1, size×size. */
  tex: Float32Array;
  size: number;
  /** 68 landmarks in texture pixels. */
  lm: Point[];
  pose: { yaw: number; pitch: number; roll: number };
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_FACES_DIR = process.env.LIVENESS_FACES_DIR ?? path.resolve(here, '../../../shared/faces');

interface LandmarkFile { faces: Array<{ file: string; landmarks: number[]; pose: { yaw: number; pitch: number; roll: number } }> }

/** The shared face crops with their (cached) landmarks. */
export async function loadFaceSources(dir = DEFAULT_FACES_DIR): Promise<FaceSource[]> {
  const { default: sharp } = await import('sharp');
  const cache = JSON.parse(fs.readFileSync(path.join(here, 'faces.json'), 'utf8')) as LandmarkFile;
  const out: FaceSource[] = [];
  for (const f of cache.faces) {
    const file = path.join(dir, f.file);
    if (!fs.existsSync(file)) continue;
    const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
    if (info.width !== info.height) continue;
    const tex = new Float32Array(info.width * info.height);
    for (let i = 0; i < tex.length; i++) tex[i] = data[i * info.channels]! / 255;
    const lm: Point[] = [];
    for (let i = 0; i < 68; i++) lm.push({ x: f.landmarks[2 * i]!, y: f.landmarks[2 * i + 1]! });
    out.push({ file: f.file, identity: f.file.split('/')[0]!, tex, size: info.width, lm, pose: f.pose });
  }
  if (!out.length) throw new Error(`no shared faces found under ${dir}`);
  return out;
}

export interface HeadModel {
  src: FaceSource;
  tone: Colour;
  /** Face ellipse in texture pixels. */
  ex: number; ey: number; ea: number; eb: number;
  /** Outer eye-corner distance, texture pixels. */
  eyeDist: number;
  /** Depth (towards the camera) per texel, texture pixels; and unit normals. */
  depth: Float32Array;
  nx: Float32Array; ny: Float32Array; nz: Float32Array;
  /** Rotation centre behind the face (texture px, negative = away from the camera). */
  pivotZ: number;
}

const mid = (a: Point, b: Point): Point => ({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });

export function buildHead(src: FaceSource, tone: Colour): HeadModel {
  const { lm, size } = src;
  const eyeDist = Math.hypot(lm[45]!.x - lm[36]!.x, lm[45]!.y - lm[36]!.y);
  const browY = (lm[19]!.y + lm[24]!.y) / 2;
  const chinY = lm[8]!.y;
  const top = browY - 0.4 * (chinY - browY);
  const ex = (lm[0]!.x + lm[16]!.x + 2 * lm[27]!.x) / 4;
  const ea = Math.max(10, (Math.abs(lm[16]!.x - lm[0]!.x) / 2) * 1.04);
  const eb = (chinY - top) / 2;
  const ey = (chinY + top) / 2;
  const D = 0.75 * ea;
  const depth = new Float32Array(size * size);
  const bridge = lm[27]!, tip = lm[30]!;
  const eyeL = mid(lm[36]!, lm[39]!), eyeR = mid(lm[42]!, lm[45]!);
  const mouth = mid(lm[48]!, lm[54]!);
  const sx = tip.x - bridge.x, sy = tip.y - bridge.y, sl = sx * sx + sy * sy || 1;
  const sig = 0.1 * eyeDist, sock = 0.13 * eyeDist;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const a = (u - ex) / (1.15 * ea), b = (v - ey) / (1.1 * eb);
      let z = D * Math.sqrt(Math.max(0, 1 - a * a - b * b));
      // nose ridge: height grows from the bridge to the tip
      let s = ((u - bridge.x) * sx + (v - bridge.y) * sy) / sl;
      const sc = Math.min(1, Math.max(0, s));
      const dx = u - (bridge.x + sc * sx), dy = v - (bridge.y + sc * sy);
      const d2 = dx * dx + dy * dy;
      s = sc;
      z += eyeDist * (0.04 + 0.2 * s) * Math.exp(-d2 / (2 * sig * sig * (1 + s)));
      for (const e of [eyeL, eyeR]) z -= 0.07 * eyeDist * Math.exp(-((u - e.x) ** 2 + (v - e.y) ** 2) / (2 * sock * sock));
      z += 0.03 * eyeDist * Math.exp(-((u - mouth.x) ** 2 + ((v - mouth.y) * 1.6) ** 2) / (2 * (0.2 * eyeDist) ** 2));
      depth[v * size + u] = z;
    }
  }
  const nx = new Float32Array(size * size), ny = new Float32Array(size * size), nz = new Float32Array(size * size);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const zx = (depth[v * size + Math.min(size - 1, u + 1)]! - depth[v * size + Math.max(0, u - 1)]!) / 2;
      const zy = (depth[Math.min(size - 1, v + 1) * size + u]! - depth[Math.max(0, v - 1) * size + u]!) / 2;
      const l = Math.hypot(zx, zy, 1);
      nx[v * size + u] = -zx / l; ny[v * size + u] = -zy / l; nz[v * size + u] = 1 / l;
    }
  }
  return { src, tone, ex, ey, ea, eb, eyeDist, depth, nx, ny, nz, pivotZ: -0.9 * ea };
}

export interface HeadPose {
  /** Degrees; yaw > 0 turns the face towards the image's right, pitch > 0 looks up, roll > 0 clockwise. */
  yaw: number;
  pitch: number;
  roll: number;
  /** Where the face-ellipse centre projects when frontal, camera pixels. */
  cx: number;
  cy: number;
  /** Camera pixels per texture pixel at the face plane. */
  scale: number;
  /** Camera distance from the face plane, in face-ellipse widths (3..6 for a selfie). */
  dist: number;
}

export interface Lighting {
  ambient: number;
  diffuse: number;
  /** Unit vector towards the light, camera coordinates (x right, y down, z towards the camera). */
  dir: [number, number, number];
  /** Light from the screen in front of the face (FLASHING), added as colour × albedo × n·z. */
  flash?: Colour | undefined;
  flashGain?: number | undefined;
}

type Mat3 = [number, number, number, number, number, number, number, number, number];

export function rotation(yawDeg: number, pitchDeg: number, rollDeg: number): Mat3 {
  const y = (yawDeg * Math.PI) / 180, p = (pitchDeg * Math.PI) / 180, r = (rollDeg * Math.PI) / 180;
  const cy = Math.cos(y), sy = Math.sin(y), cp = Math.cos(p), sp = Math.sin(p), cr = Math.cos(r), sr = Math.sin(r);
  // R = Rz(roll) · Rx(pitch) · Ry(yaw)
  const Ry: Mat3 = [cy, 0, sy, 0, 1, 0, -sy, 0, cy];
  const Rx: Mat3 = [1, 0, 0, 0, cp, -sp, 0, sp, cp];
  const Rz: Mat3 = [cr, -sr, 0, sr, cr, 0, 0, 0, 1];
  return mul3(Rz, mul3(Rx, Ry));
}

export function mul3(a: Mat3, b: Mat3): Mat3 {
  const o = new Array(9).fill(0) as Mat3;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) o[i * 3 + j] = a[i * 3]! * b[j]! + a[i * 3 + 1]! * b[3 + j]! + a[i * 3 + 2]! * b[6 + j]!;
  return o;
}

export interface HeadProjector {
  project(u: number, v: number): Point;
  /** Camera-space z of the rotated normal at a texel (visibility). */
  pose: HeadPose;
}

function sampleTex(t: Float32Array, size: number, u: number, v: number): number {
  if (u < 0) u = 0; else if (u > size - 1.001) u = size - 1.001;
  if (v < 0) v = 0; else if (v > size - 1.001) v = size - 1.001;
  const x0 = Math.floor(u), y0 = Math.floor(v), fx = u - x0, fy = v - y0;
  const i = y0 * size + x0;
  return (t[i]! * (1 - fx) + t[i + 1]! * fx) * (1 - fy) + (t[i + size]! * (1 - fx) + t[i + size + 1]! * fx) * fy;
}

/** Forward projection of a texel under a pose (camera pixels). */
export function projector(h: HeadModel, pose: HeadPose): (u: number, v: number, out: Point) => Point {
  const R = rotation(pose.yaw, pose.pitch, pose.roll);
  const dist = pose.dist * 2 * h.ea;
  const pz = h.pivotZ;
  const size = h.src.size;
  return (u, v, out) => {
    const X = u - h.ex, Y = v - h.ey, Z = sampleTex(h.depth, size, u, v) - pz;
    const x = R[0] * X + R[1] * Y + R[2] * Z;
    const y = R[3] * X + R[4] * Y + R[5] * Z;
    const z = R[6] * X + R[7] * Y + R[8] * Z + pz;
    const w = dist / (dist - z);
    out.x = pose.cx + pose.scale * x * w;
    out.y = pose.cy + pose.scale * y * w;
    return out;
  };
}

/** Face box (like a detector's: brows to chin, jaw to jaw) and landmarks of the head under a pose, camera pixels. */
export function headLandmarks(h: HeadModel, pose: HeadPose): { landmarks: Point[]; box: Box } {
  const proj = projector(h, pose);
  const landmarks = h.src.lm.map((p) => proj(p.x, p.y, { x: 0, y: 0 }));
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of landmarks) { x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y); x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y); }
  // detectors put the box top a little above the brows
  const hgt = y1 - y0;
  return { landmarks, box: { x: x0, y: y0 - 0.08 * hgt, width: x1 - x0, height: hgt * 1.08 } };
}

/**
 * Draw the face (masked by its ellipse, feathered) onto the canvas under a pose and lighting.
 * `albedoScale` darkens/brightens the skin as a whole.
 */
export function renderHead(c: Canvas, h: HeadModel, pose: HeadPose, light: Lighting): void {
  const proj = projector(h, pose);
  const R = rotation(pose.yaw, pose.pitch, pose.roll);
  const size = h.src.size;
  const w0 = pose.dist * 2 * h.ea / (pose.dist * 2 * h.ea - 0.75 * h.ea);
  const s = pose.scale * w0;
  const reach = 1.35 * Math.max(h.ea, h.eb) * s + 4;
  // The face swings around the pivot behind it: on a large turn (≳ 25°) its centre lands far from
  // (cx, cy), so the drawn window reaches it too and Newton is restarted from it (below).
  // (Small turns keep the original window: renders of micro-motion are unchanged.)
  const fc = proj(h.ex, h.ey, { x: 0, y: 0 });
  const gx = Math.abs(fc.x - pose.cx) > 0.1 * reach ? fc.x : pose.cx, gy = Math.abs(fc.y - pose.cy) > 0.1 * reach ? fc.y : pose.cy;
  const x0 = Math.max(0, Math.floor(Math.min(pose.cx, gx) - reach)), x1 = Math.min(c.width - 1, Math.ceil(Math.max(pose.cx, gx) + reach));
  const y0 = Math.max(0, Math.floor(Math.min(pose.cy, gy) - reach)), y1 = Math.min(c.height - 1, Math.ceil(Math.max(pose.cy, gy) + reach));
  const tl = lum(h.tone) || 1;
  const tone: Colour = [h.tone[0] / tl, h.tone[1] / tl, h.tone[2] / tl];
  const L = light.dir;
  const base = light.ambient + light.diffuse * Math.max(0, L[2]);
  const p: Point = { x: 0, y: 0 }, px: Point = { x: 0, y: 0 }, py: Point = { x: 0, y: 0 };
  const feather = 2.5;
  for (let y = y0; y <= y1; y++) {
    let warm = false, wu = 0, wv = 0;
    for (let x = x0; x <= x1; x++) {
      // Newton on proj(u, v) = (x, y), warm-started from the previous pixel of the row; a cold start
      // that fails is retried from the face centre's projection.
      let u = warm ? wu : h.ex + (x - pose.cx) / s, v = warm ? wv : h.ey + (y - pose.cy) / s;
      let err = 0;
      for (let it = 0, retried = warm; it < 8 || (!retried && err > 0.3); it++) {
        if (it === 8) { retried = true; it = 0; u = h.ex + (x - fc.x) / s; v = h.ey + (y - fc.y) / s; }
        proj(u, v, p);
        const ex = x - p.x, ey = y - p.y;
        err = Math.abs(ex) + Math.abs(ey);
        if (err < 0.02) break;
        proj(u + 0.5, v, px); proj(u, v + 0.5, py);
        const a = (px.x - p.x) * 2, b = (py.x - p.x) * 2, cc = (px.y - p.y) * 2, d = (py.y - p.y) * 2;
        const det = a * d - b * cc;
        if (Math.abs(det) < 1e-6 * s * s) break;
        let du = (d * ex - b * ey) / det, dv = (-cc * ex + a * ey) / det;
        const m = Math.hypot(du, dv), lim = 8;
        if (m > lim) { du *= lim / m; dv *= lim / m; }
        u += du; v += dv;
      }
      warm = err < 0.3; wu = u; wv = v;
      if (err > 0.3) continue;
      // ellipse mask in texture space (feathered), and inside the texture
      const a = (u - h.ex) / h.ea, b = (v - h.ey) / h.eb;
      const sd = (Math.sqrt(a * a + b * b) - 1) * Math.min(h.ea, h.eb);
      let alpha = Math.min(1, Math.max(0, 0.5 - sd / feather));
      const edge = Math.min(u, v, size - 1 - u, size - 1 - v);
      alpha *= Math.min(1, Math.max(0, edge / 6));
      if (alpha <= 0) continue;
      const ti = Math.min(size - 1, Math.max(0, Math.round(v))) * size + Math.min(size - 1, Math.max(0, Math.round(u)));
      const nx = h.nx[ti]!, ny = h.ny[ti]!, nz = h.nz[ti]!;
      const rx = R[0] * nx + R[1] * ny + R[2] * nz, ry = R[3] * nx + R[4] * ny + R[5] * nz, rz = R[6] * nx + R[7] * ny + R[8] * nz;
      if (rz < 0.02) continue;
      const shade = (light.ambient + light.diffuse * Math.max(0, rx * L[0] + ry * L[1] + rz * L[2])) / base;
      const g = sampleTex(h.src.tex, size, u, v);
      const col: Colour = [g * tone[0] * shade, g * tone[1] * shade, g * tone[2] * shade];
      if (light.flash) {
        const k = (light.flashGain ?? 0.5) * Math.max(0, rz) * g;
        col[0] += k * light.flash[0] * tone[0]; col[1] += k * light.flash[1] * tone[1]; col[2] += k * light.flash[2] * tone[2];
      }
      blend(c, y * c.width + x, col, alpha);
    }
  }
}
