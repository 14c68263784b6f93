/** Pyramidal Lucas–Kanade point tracking on grey images (for the burst motion signal). */
import { binGrey, blurGrey } from './image.ts';
import type { GreyImage, Point } from './types.ts';

/** Pre-blur (sigma, px) and window half-size of the tracker: chosen for sub-0.05 px accuracy on 320 px frames. */
export const TRACK_BLUR = 1.5;
export const TRACK_HALF = 7;

export interface Pyramid {
  levels: GreyImage[];
  gx: Float32Array[];
  gy: Float32Array[];
}

export function buildPyramid(g: GreyImage, levels = 2): Pyramid {
  const out: Pyramid = { levels: [], gx: [], gy: [] };
  let cur = blurGrey(g, TRACK_BLUR);
  for (let l = 0; l < levels; l++) {
    if (l > 0) cur = binGrey(cur, 2);
    const { width: w, height: h, data } = cur;
    const gx = new Float32Array(w * h), gy = new Float32Array(w * h);
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        const i = y * w + x;
        // Scharr
        gx[i] = (3 * (data[i - w + 1]! - data[i - w - 1]!) + 10 * (data[i + 1]! - data[i - 1]!) + 3 * (data[i + w + 1]! - data[i + w - 1]!)) / 32;
        gy[i] = (3 * (data[i + w - 1]! - data[i - w - 1]!) + 10 * (data[i + w]! - data[i - w]!) + 3 * (data[i + w + 1]! - data[i - w + 1]!)) / 32;
      }
    }
    out.levels.push(cur); out.gx.push(gx); out.gy.push(gy);
  }
  return out;
}

/** Minimum eigenvalue of the structure tensor in a (2r+1)² window: how trackable a point is. */
export function cornerness(p: Pyramid, x: number, y: number, r = 3): number {
  const g = p.levels[0]!, w = g.width;
  let a = 0, b = 0, c = 0;
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      const xx = Math.round(x) + dx, yy = Math.round(y) + dy;
      if (xx < 1 || yy < 1 || xx >= w - 1 || yy >= g.height - 1) continue;
      const i = yy * w + xx;
      const ix = p.gx[0]![i]!, iy = p.gy[0]![i]!;
      a += ix * ix; b += ix * iy; c += iy * iy;
    }
  }
  const n = (2 * r + 1) ** 2;
  a /= n; b /= n; c /= n;
  return (a + c) / 2 - Math.sqrt(((a - c) / 2) ** 2 + b * b);
}

/**
 * Predicted LK position error (px, one frame pair) for image noise sigma (grey levels, after the
 * pyramid blur): sigma·sqrt(2·trace(G⁻¹)) with G the gradient structure tensor over the window.
 */
export function trackingError(p: Pyramid, x: number, y: number, sigma: number, half = TRACK_HALF): number {
  const g = p.levels[0]!, w = g.width;
  let a = 0, b = 0, c = 0;
  for (let dy = -half; dy <= half; dy++) {
    for (let dx = -half; dx <= half; dx++) {
      const xx = Math.round(x) + dx, yy = Math.round(y) + dy;
      if (xx < 1 || yy < 1 || xx >= w - 1 || yy >= g.height - 1) continue;
      const i = yy * w + xx;
      const ix = p.gx[0]![i]!, iy = p.gy[0]![i]!;
      a += ix * ix; b += ix * iy; c += iy * iy;
    }
  }
  const det = a * c - b * b;
  if (det <= 1e-9) return Infinity;
  return sigma * Math.sqrt((2 * (a + c)) / det);
}

/** Image noise (grey levels): robust Immerkær estimate (median of a second-difference filter). */
export function noiseSigma(g: GreyImage): number {
  const w = g.width, h = g.height, d = g.data;
  const vals: number[] = [];
  for (let y = 1; y < h - 1; y += 2) {
    for (let x = 1; x < w - 1; x += 2) {
      const i = y * w + x;
      const v = d[i - w - 1]! - 2 * d[i - w]! + d[i - w + 1]! - 2 * d[i - 1]! + 4 * d[i]! - 2 * d[i + 1]! + d[i + w - 1]! - 2 * d[i + w]! + d[i + w + 1]!;
      vals.push(Math.abs(v));
    }
  }
  vals.sort((a, b) => a - b);
  return (1.4826 * vals[vals.length >> 1]!) / 6;
}

/** Bilinear sample of a row-major float array (edge clamped); allocation-free for the hot loops. */
function sampleArr(d: Float32Array, w: number, h: number, x: number, y: number): number {
  if (x < 0) x = 0; else if (x > w - 1) x = w - 1;
  if (y < 0) y = 0; else if (y > h - 1) y = h - 1;
  const x0 = x | 0, y0 = y | 0;
  const x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
  const fx = x - x0, fy = y - y0;
  const r0 = y0 * w, r1 = y1 * w;
  const a = d[r0 + x0]!, b = d[r0 + x1]!, c = d[r1 + x0]!, e = d[r1 + x1]!;
  return a + (b - a) * fx + (c - a + (a - b - c + e) * fx) * fy;
}

/**
 * Track points from `ref` into `tgt`; returns the positions and whether the track converged.
 * `guess` (optional) is an initial displacement per point.
 */
export function trackLK(ref: Pyramid, tgt: Pyramid, pts: readonly Point[], opts: { half?: number; iterations?: number } = {}): { pts: Point[]; ok: boolean[] } {
  const half = opts.half ?? TRACK_HALF;
  const iters = opts.iterations ?? 12;
  const L = ref.levels.length;
  const out: Point[] = [];
  const ok: boolean[] = [];
  const n = (2 * half + 1) ** 2;
  const T = new Float32Array(n), GX = new Float32Array(n), GY = new Float32Array(n);
  for (const p0 of pts) {
    let dx = 0, dy = 0, good = true;
    for (let l = L - 1; l >= 0; l--) {
      const s = 1 / (1 << l);
      const R = ref.levels[l]!, I = tgt.levels[l]!;
      const w = R.width, h = R.height;
      const px = p0.x * s, py = p0.y * s;
      if (l < L - 1) { dx *= 2; dy *= 2; }
      let a = 0, b = 0, c = 0, k = 0;
      const direct = Number.isInteger(px) && Number.isInteger(py) && px - half >= 0 && py - half >= 0 && px + half < w && py + half < h;
      const gxl = ref.gx[l]!, gyl = ref.gy[l]!;
      for (let wy = -half; wy <= half; wy++) {
        for (let wx = -half; wx <= half; wx++, k++) {
          const x = px + wx, y = py + wy;
          let ix: number, iy: number;
          if (direct) {
            const i = y * w + x;
            T[k] = R.data[i]!; ix = gxl[i]!; iy = gyl[i]!;
          } else {
            T[k] = sampleArr(R.data, w, h, x, y);
            ix = sampleArr(gxl, w, h, x, y); iy = sampleArr(gyl, w, h, x, y);
          }
          GX[k] = ix; GY[k] = iy;
          a += ix * ix; b += ix * iy; c += iy * iy;
        }
      }
      const det = a * c - b * b;
      if (det < 1e-6 * n * n) { good = false; break; }
      for (let it = 0; it < iters; it++) {
        let ex = 0, ey = 0;
        k = 0;
        for (let wy = -half; wy <= half; wy++) {
          for (let wx = -half; wx <= half; wx++, k++) {
            const e = sampleArr(I.data, w, h, px + wx + dx, py + wy + dy) - T[k]!;
            ex += e * GX[k]!; ey += e * GY[k]!;
          }
        }
        const ux = -(c * ex - b * ey) / det, uy = -(-b * ex + a * ey) / det;
        dx += ux; dy += uy;
        if (Math.abs(ux) + Math.abs(uy) < 0.01) break;
      }
      if (!Number.isFinite(dx) || !Number.isFinite(dy) || Math.abs(dx) > w / 4 || Math.abs(dy) > h / 4) { good = false; break; }
    }
    out.push({ x: p0.x + dx, y: p0.y + dy });
    ok.push(good);
  }
  return { pts: out, ok };
}

/**
 * One-level LK refinement with the window warped by a known local affine map (the Jacobian of the
 * frame's homography at each point): removes the bias that rotation/scale of the window gives
 * translation-only LK, so residuals from the homography measure real non-planarity.
 */
export function refineLK(
  ref: Pyramid, tgt: Pyramid, pts: readonly Point[], guesses: readonly Point[], jac: ReadonlyArray<readonly [number, number, number, number]>,
  opts: { half?: number; iterations?: number } = {},
): { pts: Point[]; ok: boolean[] } {
  const half = opts.half ?? TRACK_HALF;
  const iters = opts.iterations ?? 8;
  const R = ref.levels[0]!, I = tgt.levels[0]!;
  const w = R.width, h = R.height;
  const n = (2 * half + 1) ** 2;
  const T = new Float32Array(n), GX = new Float32Array(n), GY = new Float32Array(n);
  const out: Point[] = [];
  const ok: boolean[] = [];
  for (let k = 0; k < pts.length; k++) {
    const p = pts[k]!, J = jac[k]!;
    let dx = guesses[k]!.x - p.x, dy = guesses[k]!.y - p.y;
    let a = 0, b = 0, c = 0, i = 0;
    for (let wy = -half; wy <= half; wy++) {
      for (let wx = -half; wx <= half; wx++, i++) {
        const x = p.x + wx, y = p.y + wy;
        T[i] = sampleArr(R.data, w, h, x, y);
        // gradient of the template expressed in target coordinates ≈ J^-T ∇T; J ≈ I so keep ∇T
        const ix = sampleArr(ref.gx[0]!, w, h, x, y), iy = sampleArr(ref.gy[0]!, w, h, x, y);
        GX[i] = ix; GY[i] = iy;
        a += ix * ix; b += ix * iy; c += iy * iy;
      }
    }
    const det = a * c - b * b;
    let good = det > 1e-6 * n * n;
    for (let it = 0; good && it < iters; it++) {
      let ex = 0, ey = 0;
      i = 0;
      for (let wy = -half; wy <= half; wy++) {
        for (let wx = -half; wx <= half; wx++, i++) {
          const tx = p.x + dx + J[0] * wx + J[1] * wy, ty = p.y + dy + J[2] * wx + J[3] * wy;
          const e = sampleArr(I.data, w, h, tx, ty) - T[i]!;
          ex += e * GX[i]!; ey += e * GY[i]!;
        }
      }
      const ux = -(c * ex - b * ey) / det, uy = -(-b * ex + a * ey) / det;
      dx += ux; dy += uy;
      if (Math.abs(ux) + Math.abs(uy) < 0.003) break;
    }
    if (!Number.isFinite(dx) || !Number.isFinite(dy)) good = false;
    out.push({ x: p.x + dx, y: p.y + dy });
    ok.push(good);
  }
  return { pts: out, ok };
}

/** Jacobian [∂x'/∂x, ∂x'/∂y, ∂y'/∂x, ∂y'/∂y] of a homography at a point. */
export function homographyJacobian(H: readonly number[], p: Point): [number, number, number, number] {
  const wq = H[6]! * p.x + H[7]! * p.y + H[8]!;
  const xq = (H[0]! * p.x + H[1]! * p.y + H[2]!) / wq, yq = (H[3]! * p.x + H[4]! * p.y + H[5]!) / wq;
  return [(H[0]! - H[6]! * xq) / wq, (H[1]! - H[7]! * xq) / wq, (H[3]! - H[6]! * yq) / wq, (H[4]! - H[7]! * yq) / wq];
}
