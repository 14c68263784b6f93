/** Pyramidal Lucas–Kanade point tracking on grey images (for the burst motion signal). */
import { binGrey, blurGrey, sampleGrey } from './image.ts';
import type { GreyImage, Point } from './types.ts';

export interface Pyramid {
  levels: GreyImage[];
  gx: Float32Array[];
  gy: Float32Array[];
}

export function buildPyramid(g: GreyImage, levels = 2): Pyramid {
  const out: Pyramid = { levels: [], gx: [], gy: [] };
  let cur = blurGrey(g, 0.8);
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

function sampleArr(data: Float32Array, w: number, h: number, x: number, y: number): number {
  return sampleGrey({ data, width: w, height: h }, x, y);
}

/**
 * Track points from `ref` into `tgt`; returns the positions and whether the track converged.
 * `guess` (optional) is an initial displacement per point.
 */
export function trackLK(ref: Pyramid, tgt: Pyramid, pts: readonly Point[], opts: { half?: number; iterations?: number } = {}): { pts: Point[]; ok: boolean[] } {
  const half = opts.half ?? 4;
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
      for (let wy = -half; wy <= half; wy++) {
        for (let wx = -half; wx <= half; wx++, k++) {
          const x = px + wx, y = py + wy;
          T[k] = sampleArr(R.data, w, h, x, y);
          const ix = sampleArr(ref.gx[l]!, w, h, x, y), iy = sampleArr(ref.gy[l]!, w, h, x, y);
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
            const e = sampleGrey(I, px + wx + dx, py + wy + dy) - T[k]!;
            ex += e * GX[k]!; ey += e * GY[k]!;
          }
        }
        const ux = -(c * ex - b * ey) / det, uy = -(-b * ex + a * ey) / det;
        dx += ux; dy += uy;
        if (Math.abs(ux) + Math.abs(uy) < 0.005) break;
      }
      if (!Number.isFinite(dx) || !Number.isFinite(dy) || Math.abs(dx) > w / 4 || Math.abs(dy) > h / 4) { good = false; break; }
    }
    out.push({ x: p0.x + dx, y: p0.y + dy });
    ok.push(good);
  }
  return { pts: out, ok };
}
