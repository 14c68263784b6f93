/** Alignment (dlib-style face chips) and head pose from 68 landmarks. Pure math, no I/O. */
import type { Point, Pose } from './types.ts';

/**
 * dlib's mean face shape for landmarks 17..67 of the iBUG 68-point scheme, normalised to [0, 1]
 * (dlib/image_transforms/interpolation.h, get_face_chip_details). The recognition network was trained
 * on 150×150 chips built from this template with padding 0.25.
 */
const MEAN_X = [
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004,
  0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036, 0.490127, 0.554217, 0.613373, 0.121737,
  0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751,
  0.719335, 0.254149, 0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721,
  0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874, 0.553364, 0.490127,
  0.42689,
];
const MEAN_Y = [
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454,
  0.203352, 0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326, 0.216423,
  0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077,
  0.245099, 0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192,
  0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746, 0.784792, 0.824182, 0.831803,
  0.824182,
];

/** Similarity transform p' = s·R·p + t as [a, -b, tx; b, a, ty] (a = s·cosθ, b = s·sinθ). */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** Least-squares similarity transform mapping `from` onto `to` (Umeyama, no reflection). */
export function fitSimilarity(from: readonly Point[], to: readonly Point[]): Similarity {
  const n = from.length;
  let mfx = 0, mfy = 0, mtx = 0, mty = 0;
  for (let i = 0; i < n; i++) {
    mfx += from[i]!.x; mfy += from[i]!.y; mtx += to[i]!.x; mty += to[i]!.y;
  }
  mfx /= n; mfy /= n; mtx /= n; mty /= n;
  let sxx = 0, sxy = 0, var0 = 0;
  for (let i = 0; i < n; i++) {
    const fx = from[i]!.x - mfx, fy = from[i]!.y - mfy;
    const tx = to[i]!.x - mtx, ty = to[i]!.y - mty;
    sxx += fx * tx + fy * ty; // Σ f·t
    sxy += fx * ty - fy * tx; // Σ f×t
    var0 += fx * fx + fy * fy;
  }
  const a = sxx / var0;
  const b = sxy / var0;
  return { a, b, tx: mtx - (a * mfx - b * mfy), ty: mty - (b * mfx + a * mfy) };
}

export interface Chip {
  /** Affine map chip (u, v) → image (x, y), for warpAffine. */
  toImage: [number, number, number, number, number, number];
  /** Image pixels per chip pixel. */
  scale: number;
}

/** Where landmarks 17..67 of a frontal, level face sit in a size×size dlib chip. */
export function chipTemplate(size = 150, padding = 0.25): Point[] {
  return MEAN_X.map((x, i) => ({ x: ((padding + x) / (2 * padding + 1)) * size, y: ((padding + MEAN_Y[i]!) / (2 * padding + 1)) * size }));
}

/** The dlib face chip (size×size, padding 0.25) for 68 landmarks given in image pixels. */
export function chipTransform(landmarks: readonly Point[], size = 150, padding = 0.25): Chip {
  const src = landmarks.slice(17, 68);
  const dst = chipTemplate(size, padding);
  // Fit chip → image directly (the inverse map is what the warp needs).
  const t = fitSimilarity(dst, src);
  return { toImage: [t.a, -t.b, t.tx, t.b, t.a, t.ty], scale: Math.hypot(t.a, t.b) };
}

function mean(points: readonly Point[], from: number, to: number): Point {
  let x = 0, y = 0;
  for (let i = from; i <= to; i++) { x += points[i]!.x; y += points[i]!.y; }
  const n = to - from + 1;
  return { x: x / n, y: y / n };
}

/** Depth (towards the camera, in units of the outer eye-corner distance) of the landmarks used for pose. */
const DEPTH: Record<number, number> = { 27: 0.08, 30: 0.3, 33: 0.21, 36: 0, 39: 0.05, 42: 0.05, 45: 0, 48: 0.02, 54: 0.02 };

/**
 * 3D reference points: x and y from dlib's mean face (so the alignment template is exactly frontal,
 * yaw = pitch = 0), z from a generic head. x right, y up, z towards the camera.
 */
const MODEL_3D: Array<[number, [number, number, number]]> = (() => {
  const eyeDist = MEAN_X[45 - 17]! - MEAN_X[36 - 17]!;
  return Object.entries(DEPTH).map(([k, z]): [number, [number, number, number]] => {
    const i = Number(k);
    return [i, [(MEAN_X[i - 17]! - 0.490127) / eyeDist, -(MEAN_Y[i - 17]! - 0.5) / eyeDist, z]];
  });
})();

/**
 * Head pose by a weak-perspective (scaled orthographic) fit of a generic 3D face to 9 landmarks.
 * Roll comes from the eye line, which is more stable than the fit.
 */
export function estimatePose(lm: readonly Point[]): Pose {
  const n = MODEL_3D.length;
  // Centre image points (y up) and model points.
  const P: Array<[number, number]> = [];
  const X: Array<[number, number, number]> = [];
  let px = 0, py = 0, mx = 0, my = 0, mz = 0;
  for (const [i, m] of MODEL_3D) {
    const p = lm[i]!;
    P.push([p.x, -p.y]);
    X.push(m);
    px += p.x; py += -p.y; mx += m[0]; my += m[1]; mz += m[2];
  }
  px /= n; py /= n; mx /= n; my /= n; mz /= n;
  // Normal equations: A (2×3) = (Σ p xᵀ)(Σ x xᵀ)⁻¹
  const XX = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  const PX = [[0, 0, 0], [0, 0, 0]];
  for (let k = 0; k < n; k++) {
    const x = [X[k]![0] - mx, X[k]![1] - my, X[k]![2] - mz];
    const p = [P[k]![0] - px, P[k]![1] - py];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) XX[r]![c]! += x[r]! * x[c]!;
    for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) PX[r]![c]! += p[r]! * x[c]!;
  }
  const inv = invert3(XX);
  const A = PX.map((row) => [0, 1, 2].map((c) => row[0]! * inv[0]![c]! + row[1]! * inv[1]![c]! + row[2]! * inv[2]![c]!));
  let r1 = normalise(A[0]!);
  let r2 = normalise(A[1]!);
  // Symmetric orthogonalisation of r1, r2.
  const d = dot(r1, r2);
  const r1b = normalise(r1.map((v, i) => v - (d / 2) * r2[i]!));
  const r2b = normalise(r2.map((v, i) => v - (d / 2) * r1[i]!));
  r1 = r1b; r2 = r2b;
  const r3 = cross(r1, r2);
  // The model's forward axis (out of the face) in camera coordinates is R's third column.
  const fx = r1[2]!, fy = r2[2]!, fz = r3[2]!;
  const yaw = Math.asin(clamp(fx, -1, 1));
  const pitch = Math.atan2(fy, fz);
  const le = mean(lm, 36, 41);
  const re = mean(lm, 42, 47);
  const roll = Math.atan2(re.y - le.y, re.x - le.x);
  const deg = 180 / Math.PI;
  return { yaw: round1(yaw * deg), pitch: round1(pitch * deg), roll: round1(roll * deg) };
}

function round1(v: number): number { return Math.round(v * 10) / 10; }
function clamp(v: number, lo: number, hi: number): number { return v < lo ? lo : v > hi ? hi : v; }
function dot(a: number[], b: number[]): number { return a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!; }
function normalise(a: number[]): number[] { const l = Math.hypot(a[0]!, a[1]!, a[2]!) || 1; return a.map((v) => v / l); }
function cross(a: number[], b: number[]): number[] {
  return [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];
}
function invert3(m: number[][]): number[][] {
  const [a, b, c] = m[0]!; const [d, e, f] = m[1]!; const [g, h, i] = m[2]!;
  const A = e! * i! - f! * h!, B = -(d! * i! - f! * g!), C = d! * h! - e! * g!;
  const det = a! * A + b! * B + c! * C;
  const D = -(b! * i! - c! * h!), E = a! * i! - c! * g!, F = -(a! * h! - b! * g!);
  const G = b! * f! - c! * e!, H = -(a! * f! - c! * d!), I = a! * e! - b! * d!;
  return [[A / det, D / det, G / det], [B / det, E / det, H / det], [C / det, F / det, I / det]];
}

export { mean as meanPoint };
