/**
 * Pyramidal Lucas–Kanade point tracking on grey images (for the burst motion signal).
 * Why not OpenCV's calcOpticalFlowPyrLK (@techstark/opencv-js): it is about 2× faster per frame, but
 * with the face 25 % brighter in one frame (the PASSIVE screen light, auto-exposure) its error goes
 * from 0.08 to 3 px where ours, which scales each window to the template's brightness, stays at
 * 0.08 px; nor has it the homography-warped refinement below (bench/libraries/tracker.ts,
 * docs/dependencies.md).
 */
import { binGrey, blurGrey } from './image.ts';
import type { Float32Arena } from './scratch.ts';
import type { GreyImage, Point } from './types.ts';

/** Pre-blur (sigma, px) and window half-size of the tracker: chosen for sub-0.05 px accuracy on 320 px frames. */
export const TRACK_BLUR = 1.5;
export const TRACK_HALF = 7;

export interface Pyramid {
  levels: GreyImage[];
  gx: Float32Array[];
  gy: Float32Array[];
}

/** `arena`: where the pyramid's pixels come from (they live as long as its analysis; default: new arrays). */
export function buildPyramid(g: GreyImage, levels = 2, arena?: Float32Arena): Pyramid {
  const out: Pyramid = { levels: [], gx: [], gy: [] };
  let cur = blurGrey(g, TRACK_BLUR, arena);
  for (let l = 0; l < levels; l++) {
    if (l > 0) cur = binGrey(cur, 2, arena);
    const { width: w, height: h, data } = cur;
    // (zeroed: the border rows and columns stay 0)
    const gx = arena ? arena.take(w * h) : new Float32Array(w * h), gy = arena ? arena.take(w * h) : new Float32Array(w * h);
    for (let y = 1; y < h - 1; y++) {
      // Scharr; a sliding 3×3 neighbourhood (each pixel read once per row)
      const row = y * w;
      let i = row + 1;
      let nw = data[i - w - 1]!, n = data[i - w]!, wv = data[i - 1]!, c = data[i]!, sw = data[i + w - 1]!, s = data[i + w]!;
      for (let x = 1; x < w - 1; x++, i++) {
        const ne = data[i - w + 1]!, e = data[i + 1]!, se = data[i + w + 1]!;
        gx[i] = (3 * (ne - nw) + 10 * (e - wv) + 3 * (se - sw)) / 32;
        gy[i] = (3 * (sw - nw) + 10 * (s - n) + 3 * (se - ne)) / 32;
        nw = n; n = ne; wv = c; c = e; sw = s; s = se;
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
  const vals = new Float64Array(Math.max(0, Math.ceil((h - 2) / 2)) * Math.max(0, Math.ceil((w - 2) / 2)));
  let n = 0;
  for (let y = 1; y < h - 1; y += 2) {
    for (let x = 1; x < w - 1; x += 2) {
      const i = y * w + x;
      const v = d[i - w - 1]! - 2 * d[i - w]! + d[i - w + 1]! - 2 * d[i - 1]! + 4 * d[i]! - 2 * d[i + 1]! + d[i + w - 1]! - 2 * d[i + w]! + d[i + w + 1]!;
      vals[n++] = Math.abs(v);
    }
  }
  // the element a full sort would put at n/2 (quickselect: same value, linear time)
  return (1.4826 * select(vals, n, n >> 1)) / 6;
}

/** The k-th smallest of a[0..n) (reorders a): Hoare quickselect with a median-of-three pivot. */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0, hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    let x = a[lo]!, y = a[mid]!, z = a[hi]!;
    if (x > y) { const t = x; x = y; y = t; }
    if (y > z) { y = z; if (x > y) y = x; }
    const pivot = y;
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) { const t = a[i]!; a[i] = a[j]!; a[j] = t; i++; j--; }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** Bilinear blend of four samples (the hot loops inline the edge clamping; allocation-free). */
function bil(d: Float32Array, i00: number, i01: number, i10: number, i11: number, fx: number, fy: number): number {
  const a = d[i00]!, b = d[i01]!, c = d[i10]!, e = d[i11]!;
  return a + (b - a) * fx + (c - a + (a - b - c + e) * fx) * fy;
}

/**
 * Track points from `ref` into `tgt`; returns the positions and whether the track converged.
 * `guess` (optional) is an initial displacement per point.
 */
/**
 * Templates (window samples, gradients and structure tensor) of the points of one reference
 * pyramid, kept between calls of trackLK that track the same points of the same reference into
 * several targets. Only valid for that reference, those points and the same window size.
 */
export class LKTemplates {
  readonly entries = new Map<number, { T: Float32Array; GX: Float32Array; GY: Float32Array; a: number; b: number; c: number; sT: number }>();
}

export function trackLK(ref: Pyramid, tgt: Pyramid, pts: readonly Point[], opts: { half?: number; iterations?: number; templates?: LKTemplates } = {}): { pts: Point[]; ok: boolean[] } {
  const half = opts.half ?? TRACK_HALF;
  const iters = opts.iterations ?? 12;
  const L = ref.levels.length;
  const out: Point[] = [];
  const ok: boolean[] = [];
  const n = (2 * half + 1) ** 2;
  const cache = opts.templates;
  const Ts = new Float32Array(n), GXs = new Float32Array(n), GYs = new Float32Array(n);
  for (let pi = 0; pi < pts.length; pi++) {
    const p0 = pts[pi]!;
    let dx = 0, dy = 0, good = true;
    for (let l = L - 1; l >= 0; l--) {
      const s = 1 / (1 << l);
      const R = ref.levels[l]!, I = tgt.levels[l]!;
      const w = R.width, h = R.height;
      const px = p0.x * s, py = p0.y * s;
      if (l < L - 1) { dx *= 2; dy *= 2; }
      let a = 0, b = 0, c = 0, k = 0, sT = 0;
      let T: Float32Array = Ts, GX: Float32Array = GXs, GY: Float32Array = GYs;
      const hit = cache?.entries.get(pi * L + l);
      if (hit) { T = hit.T; GX = hit.GX; GY = hit.GY; a = hit.a; b = hit.b; c = hit.c; sT = hit.sT; } else {
      if (cache) { T = new Float32Array(n); GX = new Float32Array(n); GY = new Float32Array(n); }
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
            // bilinear samples of the three arrays at the same (clamped) point, weights computed once
            let cx = x, cy = y;
            if (cx < 0) cx = 0; else if (cx > w - 1) cx = w - 1;
            if (cy < 0) cy = 0; else if (cy > h - 1) cy = h - 1;
            const x0 = cx | 0, y0 = cy | 0;
            const x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
            const fx = cx - x0, fy = cy - y0;
            const i00 = y0 * w + x0, i01 = y0 * w + x1, i10 = y1 * w + x0, i11 = y1 * w + x1;
            T[k] = bil(R.data, i00, i01, i10, i11, fx, fy);
            ix = bil(gxl, i00, i01, i10, i11, fx, fy); iy = bil(gyl, i00, i01, i10, i11, fx, fy);
          }
          GX[k] = ix; GY[k] = iy;
          a += ix * ix; b += ix * iy; c += iy * iy;
          sT += T[k]!;
        }
      }
      if (cache) cache.entries.set(pi * L + l, { T, GX, GY, a, b, c, sT });
      }
      const det = a * c - b * b;
      if (det < 1e-6 * n * n) { good = false; break; }
      const Id = I.data;
      // window gain: the light on the point may differ between the frames (PASSIVE screen light,
      // auto-exposure); the target window is scaled to the template's brightness, from the
      // previous iteration's window (first iteration: unscaled)
      let gain = 1;
      for (let it = 0; it < iters; it++) {
        let ex = 0, ey = 0, sI = 0;
        k = 0;
        const cx = px + dx;
        const inside = cx - half > 1 && cx + half < w - 2;
        for (let wy = -half; wy <= half; wy++) {
          // bilinear sample with edge clamping, inlined (no call per pixel)
          let y = py + wy + dy;
          if (y < 0) y = 0; else if (y > h - 1) y = h - 1;
          const y0 = y | 0, y1 = y0 + 1 < h ? y0 + 1 : y0, fy = y - y0, r0 = y0 * w, r1 = y1 * w;
          if (inside) {
            // the whole window row lies within [1, w − 2]: no clamping, x0 + 1 < w
            for (let wx = -half; wx <= half; wx++, k++) {
              const x = px + wx + dx;
              const x0 = x | 0, fx = x - x0;
              const a0 = Id[r0 + x0]!, b0 = Id[r0 + x0 + 1]!, c0 = Id[r1 + x0]!, e0 = Id[r1 + x0 + 1]!;
              const v = a0 + (b0 - a0) * fx + (c0 - a0 + (a0 - b0 - c0 + e0) * fx) * fy;
              const e = gain * v - T[k]!;
              sI += v;
              ex += e * GX[k]!; ey += e * GY[k]!;
            }
            continue;
          }
          for (let wx = -half; wx <= half; wx++, k++) {
            let x = px + wx + dx;
            if (x < 0) x = 0; else if (x > w - 1) x = w - 1;
            const x0 = x | 0, x1 = x0 + 1 < w ? x0 + 1 : x0, fx = x - x0;
            const a0 = Id[r0 + x0]!, b0 = Id[r0 + x1]!, c0 = Id[r1 + x0]!, e0 = Id[r1 + x1]!;
            const v = a0 + (b0 - a0) * fx + (c0 - a0 + (a0 - b0 - c0 + e0) * fx) * fy;
            const e = gain * v - T[k]!;
            sI += v;
            ex += e * GX[k]!; ey += e * GY[k]!;
          }
        }
        const ux = -(c * ex - b * ey) / det, uy = -(-b * ex + a * ey) / det;
        dx += ux; dy += uy;
        gain = windowGain(sT, sI);
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
    let a = 0, b = 0, c = 0, i = 0, sT = 0;
    const gx0 = ref.gx[0]!, gy0 = ref.gy[0]!;
    for (let wy = -half; wy <= half; wy++) {
      for (let wx = -half; wx <= half; wx++, i++) {
        let x = p.x + wx, y = p.y + wy;
        if (x < 0) x = 0; else if (x > w - 1) x = w - 1;
        if (y < 0) y = 0; else if (y > h - 1) y = h - 1;
        const x0 = x | 0, y0 = y | 0;
        const x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
        const fx = x - x0, fy = y - y0;
        const i00 = y0 * w + x0, i01 = y0 * w + x1, i10 = y1 * w + x0, i11 = y1 * w + x1;
        T[i] = bil(R.data, i00, i01, i10, i11, fx, fy);
        // gradient of the template expressed in target coordinates ≈ J^-T ∇T; J ≈ I so keep ∇T
        const ix = bil(gx0, i00, i01, i10, i11, fx, fy), iy = bil(gy0, i00, i01, i10, i11, fx, fy);
        GX[i] = ix; GY[i] = iy;
        a += ix * ix; b += ix * iy; c += iy * iy;
        sT += T[i]!;
      }
    }
    const det = a * c - b * b;
    let good = det > 1e-6 * n * n;
    const Id = I.data;
    let gain = 1; // as in trackLK
    for (let it = 0; good && it < iters; it++) {
      let ex = 0, ey = 0, sI = 0;
      i = 0;
      // the warped window lies within [1, w − 2] × [1, h − 2]: sample without clamping (same values)
      const rx = (Math.abs(J[0]) + Math.abs(J[1])) * half, ry = (Math.abs(J[2]) + Math.abs(J[3])) * half;
      const cx = p.x + dx, cy = p.y + dy;
      if (cx - rx > 1 && cx + rx < w - 2 && cy - ry > 1 && cy + ry < h - 2) {
        for (let wy = -half; wy <= half; wy++) {
          for (let wx = -half; wx <= half; wx++, i++) {
            const tx = p.x + dx + J[0] * wx + J[1] * wy, ty = p.y + dy + J[2] * wx + J[3] * wy;
            const x0 = tx | 0, y0 = ty | 0;
            const v = bil(Id, y0 * w + x0, y0 * w + x0 + 1, (y0 + 1) * w + x0, (y0 + 1) * w + x0 + 1, tx - x0, ty - y0);
            const e = gain * v - T[i]!;
            sI += v;
            ex += e * GX[i]!; ey += e * GY[i]!;
          }
        }
        const ux = -(c * ex - b * ey) / det, uy = -(-b * ex + a * ey) / det;
        dx += ux; dy += uy;
        gain = windowGain(sT, sI);
        if (Math.abs(ux) + Math.abs(uy) < 0.003) break;
        continue;
      }
      for (let wy = -half; wy <= half; wy++) {
        for (let wx = -half; wx <= half; wx++, i++) {
          let tx = p.x + dx + J[0] * wx + J[1] * wy, ty = p.y + dy + J[2] * wx + J[3] * wy;
          if (tx < 0) tx = 0; else if (tx > w - 1) tx = w - 1;
          if (ty < 0) ty = 0; else if (ty > h - 1) ty = h - 1;
          const x0 = tx | 0, y0 = ty | 0;
          const x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
          const v = bil(Id, y0 * w + x0, y0 * w + x1, y1 * w + x0, y1 * w + x1, tx - x0, ty - y0);
          const e = gain * v - T[i]!;
          sI += v;
          ex += e * GX[i]!; ey += e * GY[i]!;
        }
      }
      const ux = -(c * ex - b * ey) / det, uy = -(-b * ex + a * ey) / det;
      dx += ux; dy += uy;
      gain = windowGain(sT, sI);
      if (Math.abs(ux) + Math.abs(uy) < 0.003) break;
    }
    if (!Number.isFinite(dx) || !Number.isFinite(dy)) good = false;
    out.push({ x: p.x + dx, y: p.y + dy });
    ok.push(good);
  }
  return { pts: out, ok };
}

/** Template sum over window sum, bounded: dark or empty windows keep (close to) unit gain. */
function windowGain(sT: number, sI: number): number {
  if (!(sI > 1) || !(sT > 1)) return 1;
  const g = sT / sI;
  return g < 0.5 ? 0.5 : g > 2 ? 2 : g;
}

/** Jacobian [∂x'/∂x, ∂x'/∂y, ∂y'/∂x, ∂y'/∂y] of a homography at a point. */
export function homographyJacobian(H: readonly number[], p: Point): [number, number, number, number] {
  const wq = H[6]! * p.x + H[7]! * p.y + H[8]!;
  const xq = (H[0]! * p.x + H[1]! * p.y + H[2]!) / wq, yq = (H[3]! * p.x + H[4]! * p.y + H[5]!) / wq;
  return [(H[0]! - H[6]! * xq) / wq, (H[1]! - H[7]! * xq) / wq, (H[3]! - H[6]! * yq) / wq, (H[4]! - H[7]! * yq) / wq];
}
