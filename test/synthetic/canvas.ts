/** Float RGB canvases (0..1, 3 floats per pixel) and drawing primitives for the synthetic generator. */
import type { RgbImage } from '../../src/liveness/types.ts';
import { normal, type Rng } from '../../src/liveness/rng.ts';

export interface Canvas {
  width: number;
  height: number;
  data: Float32Array;
}

export type Colour = [number, number, number];

export function canvas(width: number, height: number, fill: Colour = [0, 0, 0]): Canvas {
  const data = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) { data[i * 3] = fill[0]; data[i * 3 + 1] = fill[1]; data[i * 3 + 2] = fill[2]; }
  return { width, height, data };
}

export function cloneCanvas(c: Canvas): Canvas {
  return { width: c.width, height: c.height, data: c.data.slice() };
}

export function blend(c: Canvas, i: number, col: Colour, a: number): void {
  if (a <= 0) return;
  if (a > 1) a = 1;
  const o = i * 3;
  c.data[o] = c.data[o]! * (1 - a) + col[0] * a;
  c.data[o + 1] = c.data[o + 1]! * (1 - a) + col[1] * a;
  c.data[o + 2] = c.data[o + 2]! * (1 - a) + col[2] * a;
}

/** Soft coverage from a signed distance in pixels (negative inside). */
export const coverage = (sd: number): number => (sd <= -0.5 ? 1 : sd >= 0.5 ? 0 : 0.5 - sd);

/** Vertical gradient fill. */
export function fillGradient(c: Canvas, top: Colour, bottom: Colour): void {
  for (let y = 0; y < c.height; y++) {
    const t = y / Math.max(1, c.height - 1);
    const col: Colour = [top[0] + (bottom[0] - top[0]) * t, top[1] + (bottom[1] - top[1]) * t, top[2] + (bottom[2] - top[2]) * t];
    for (let x = 0; x < c.width; x++) blend(c, y * c.width + x, col, 1);
  }
}

/** Rotated rectangle (centre, size, angle in radians) with soft edges; optional per-pixel colour. */
export function drawRect(
  c: Canvas,
  cx: number, cy: number, w: number, h: number, angle: number,
  col: Colour | ((x: number, y: number) => Colour),
  alpha = 1,
  radius = 0,
): void {
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const ext = Math.abs(w * cos) / 2 + Math.abs(h * sin) / 2 + 2;
  const eyt = Math.abs(w * sin) / 2 + Math.abs(h * cos) / 2 + 2;
  const x0 = Math.max(0, Math.floor(cx - ext)), x1 = Math.min(c.width - 1, Math.ceil(cx + ext));
  const y0 = Math.max(0, Math.floor(cy - eyt)), y1 = Math.min(c.height - 1, Math.ceil(cy + eyt));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x - cx, dy = y - cy;
      const u = dx * cos + dy * sin, v = -dx * sin + dy * cos;
      const qx = Math.abs(u) - w / 2 + radius, qy = Math.abs(v) - h / 2 + radius;
      const sd = Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - radius;
      const a = coverage(sd) * alpha;
      if (a > 0) blend(c, y * c.width + x, typeof col === 'function' ? col(x, y) : col, a);
    }
  }
}

/** Ellipse with soft edges (feather in px). */
export function drawEllipse(
  c: Canvas, cx: number, cy: number, rx: number, ry: number, angle: number,
  col: Colour | ((x: number, y: number) => Colour), alpha = 1, feather = 1,
): void {
  const r = Math.max(rx, ry) + feather + 2;
  const cos = Math.cos(angle), sin = Math.sin(angle);
  const x0 = Math.max(0, Math.floor(cx - r)), x1 = Math.min(c.width - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r)), y1 = Math.min(c.height - 1, Math.ceil(cy + r));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const dx = x - cx, dy = y - cy;
      const u = (dx * cos + dy * sin) / rx, v = (-dx * sin + dy * cos) / ry;
      const d = Math.sqrt(u * u + v * v);
      const sd = (d - 1) * Math.min(rx, ry);
      const a = Math.min(1, Math.max(0, 0.5 - sd / feather)) * alpha;
      if (a > 0) blend(c, y * c.width + x, typeof col === 'function' ? col(x, y) : col, a);
    }
  }
}

/** Bilinear RGB sample (edge clamped). */
export function sampleCanvas(c: Canvas, x: number, y: number, out: Colour): Colour {
  const w = c.width, h = c.height;
  if (x < 0) x = 0; else if (x > w - 1) x = w - 1;
  if (y < 0) y = 0; else if (y > h - 1) y = h - 1;
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
  const fx = x - x0, fy = y - y0;
  const d = c.data;
  for (let k = 0; k < 3; k++) {
    const a = d[(y0 * w + x0) * 3 + k]!, b = d[(y0 * w + x1) * 3 + k]!, e = d[(y1 * w + x0) * 3 + k]!, f = d[(y1 * w + x1) * 3 + k]!;
    out[k] = (a * (1 - fx) + b * fx) * (1 - fy) + (e * (1 - fx) + f * fx) * fy;
  }
  return out;
}

/** Separable Gaussian blur of all three channels. */
export function blurCanvas(c: Canvas, sigma: number): Canvas {
  if (sigma < 0.2) return c;
  const r = Math.max(1, Math.ceil(sigma * 3));
  const k = new Float32Array(2 * r + 1);
  let ks = 0;
  for (let i = -r; i <= r; i++) ks += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= ks;
  const { width: w, height: h } = c;
  const src = c.data;
  const tmp = new Float32Array(w * h * 3);
  const out = new Float32Array(w * h * 3);
  const kn = k.length;
  // horizontal
  for (let y = 0; y < h; y++) {
    const row = y * w * 3;
    for (let x = 0; x < w; x++) {
      let s0 = 0, s1 = 0, s2 = 0;
      if (x >= r && x < w - r) {
        let o = row + (x - r) * 3;
        for (let i = 0; i < kn; i++, o += 3) { const kv = k[i]!; s0 += kv * src[o]!; s1 += kv * src[o + 1]!; s2 += kv * src[o + 2]!; }
      } else {
        for (let i = 0; i < kn; i++) {
          const xx = Math.min(w - 1, Math.max(0, x + i - r));
          const o = row + xx * 3, kv = k[i]!;
          s0 += kv * src[o]!; s1 += kv * src[o + 1]!; s2 += kv * src[o + 2]!;
        }
      }
      const d = row + x * 3;
      tmp[d] = s0; tmp[d + 1] = s1; tmp[d + 2] = s2;
    }
  }
  // vertical
  const stride = w * 3;
  for (let y = 0; y < h; y++) {
    const interior = y >= r && y < h - r;
    for (let x = 0; x < stride; x++) {
      let s = 0;
      if (interior) {
        let o = (y - r) * stride + x;
        for (let i = 0; i < kn; i++, o += stride) s += k[i]! * tmp[o]!;
      } else {
        for (let i = 0; i < kn; i++) s += k[i]! * tmp[Math.min(h - 1, Math.max(0, y + i - r)) * stride + x]!;
      }
      out[y * stride + x] = s;
    }
  }
  return { width: w, height: h, data: out };
}

/** Smooth random field (value noise, `cells` across the width), values about N(0, 1). */
export function smoothNoise(rng: Rng, width: number, height: number, cells: number): Float32Array {
  const gw = Math.max(2, Math.ceil(cells) + 2);
  const gh = Math.max(2, Math.ceil((cells * height) / width) + 2);
  const g = new Float32Array(gw * gh);
  for (let i = 0; i < g.length; i++) g[i] = normal(rng);
  const out = new Float32Array(width * height);
  const sx = (gw - 1.001) / width, sy = (gh - 1.001) / height;
  for (let y = 0; y < height; y++) {
    const gy = y * sy, y0 = Math.floor(gy), fy = gy - y0, ty = fy * fy * (3 - 2 * fy);
    for (let x = 0; x < width; x++) {
      const gx = x * sx, x0 = Math.floor(gx), fx = gx - x0, tx = fx * fx * (3 - 2 * fx);
      const a = g[y0 * gw + x0]!, b = g[y0 * gw + x0 + 1]!, c = g[(y0 + 1) * gw + x0]!, d = g[(y0 + 1) * gw + x0 + 1]!;
      out[y * width + x] = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
    }
  }
  return out;
}

export function toRgbImage(c: Canvas): RgbImage {
  const out = new Uint8Array(c.width * c.height * 3);
  for (let i = 0; i < out.length; i++) {
    const v = Math.round(c.data[i]! * 255);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return { data: out, width: c.width, height: c.height };
}

export function fromRgbImage(img: RgbImage): Canvas {
  const data = new Float32Array(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = img.data[i]! / 255;
  return { width: img.width, height: img.height, data };
}

export function lum(c: Colour): number {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
}

export function mix(a: Colour, b: Colour, t: number): Colour {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export function scale(a: Colour, s: number): Colour {
  return [a[0] * s, a[1] * s, a[2] * s];
}
