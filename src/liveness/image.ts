/**
 * Pixel helpers for the liveness signals: pure functions on RGB / grey buffers, plus decode/encode
 * through sharp (only decodeRgb, encodeJpeg and encodePng touch sharp).
 */
import type { Box, GreyImage, RgbImage } from './types.ts';
import { scratchFloat32, type Float32Arena } from './scratch.ts';

export function greyOf(img: RgbImage): GreyImage {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const d = img.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = 0.299 * d[j]! + 0.587 * d[j + 1]! + 0.114 * d[j + 2]!;
  return { data: out, width: img.width, height: img.height };
}

const binnedCache = new WeakMap<RgbImage, Map<number, GreyImage>>();

/**
 * binGrey(greyOf(img), bin), computed once per image object and bin (the single-frame signals, the
 * consistency check and the motion signal share the still's and the capture frame's grey images).
 * The result is shared: callers must not modify it. Only for images whose pixels do not change.
 */
export function binnedGreyOf(img: RgbImage, bin: number): GreyImage {
  let m = binnedCache.get(img);
  if (!m) { m = new Map(); binnedCache.set(img, m); }
  let g = m.get(bin);
  if (!g) {
    g = bin <= 1 ? greyOf(img) : bin === 2 && !m.has(1) ? greyBin2(img) : binGrey(binnedGreyOf(img, 1), bin);
    m.set(bin, g);
  }
  return g;
}

/** binGrey(greyOf(img), 2) in one pass (same float32 grey values, summed in the same order). */
function greyBin2(img: RgbImage): GreyImage {
  const W = img.width, w = Math.floor(W / 2), h = Math.floor(img.height / 2);
  const out = new Float32Array(w * h);
  const d = img.data, f = Math.fround;
  for (let y = 0; y < h; y++) {
    const o0 = 2 * y * W * 3, o1 = o0 + W * 3, o = y * w;
    for (let x = 0; x < w; x++) {
      const j0 = o0 + 6 * x, j1 = o1 + 6 * x;
      const a = f(0.299 * d[j0]! + 0.587 * d[j0 + 1]! + 0.114 * d[j0 + 2]!), b = f(0.299 * d[j0 + 3]! + 0.587 * d[j0 + 4]! + 0.114 * d[j0 + 5]!);
      const c = f(0.299 * d[j1]! + 0.587 * d[j1 + 1]! + 0.114 * d[j1 + 2]!), e = f(0.299 * d[j1 + 3]! + 0.587 * d[j1 + 4]! + 0.114 * d[j1 + 5]!);
      out[o + x] = (a + b + c + e) * 0.25;
    }
  }
  return { data: out, width: w, height: h };
}

/** One channel (0 = R, 1 = G, 2 = B) or a chroma difference as a float image. */
export function channelOf(img: RgbImage, fn: (r: number, g: number, b: number) => number): GreyImage {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const d = img.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = fn(d[j]!, d[j + 1]!, d[j + 2]!);
  return { data: out, width: img.width, height: img.height };
}

/** Integer-aligned box clipped to the image; null when empty. */
export function clipBox(b: Box, width: number, height: number): Box | null {
  const x0 = Math.max(0, Math.floor(b.x));
  const y0 = Math.max(0, Math.floor(b.y));
  const x1 = Math.min(width, Math.ceil(b.x + b.width));
  const y1 = Math.min(height, Math.ceil(b.y + b.height));
  if (x1 - x0 < 1 || y1 - y0 < 1) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** The box grown by `f` of its size on every side (f = 0.5 doubles it), not clipped. */
export function growBox(b: Box, fx: number, fy = fx): Box {
  return { x: b.x - b.width * fx, y: b.y - b.height * fy, width: b.width * (1 + 2 * fx), height: b.height * (1 + 2 * fy) };
}

/**
 * The middle of a face box (eyes to mouth, cheek to cheek: skin, little hair or background): where
 * the light signals read the face's brightness.
 */
export function faceCentre(b: Box): Box {
  return { x: b.x + 0.2 * b.width, y: b.y + 0.2 * b.height, width: 0.6 * b.width, height: 0.65 * b.height };
}

/** A face box without its margins (forehead to chin): the area whose light is mapped patch by patch. */
export function faceInner(b: Box): Box {
  return { x: b.x + 0.12 * b.width, y: b.y + 0.12 * b.height, width: 0.76 * b.width, height: 0.8 * b.height };
}

export function scaleBox(b: Box, s: number): Box {
  return { x: b.x * s, y: b.y * s, width: b.width * s, height: b.height * s };
}

export function cropGrey(g: GreyImage, b: Box): GreyImage {
  const c = clipBox(b, g.width, g.height);
  if (!c) return { data: new Float32Array(0), width: 0, height: 0 };
  const out = new Float32Array(c.width * c.height);
  for (let y = 0; y < c.height; y++) out.set(g.data.subarray((c.y + y) * g.width + c.x, (c.y + y) * g.width + c.x + c.width), y * c.width);
  return { data: out, width: c.width, height: c.height };
}

export function cropRgb(img: RgbImage, b: Box): RgbImage {
  const c = clipBox(b, img.width, img.height);
  if (!c) return { data: new Uint8Array(0), width: 0, height: 0 };
  const out = new Uint8Array(c.width * c.height * 3);
  for (let y = 0; y < c.height; y++) {
    const s = ((c.y + y) * img.width + c.x) * 3;
    out.set(img.data.subarray(s, s + c.width * 3), y * c.width * 3);
  }
  return { data: out, width: c.width, height: c.height };
}

/** Downscale by an integer factor with box averaging (anti-aliased, cheap); `arena`: where the result's pixels come from. */
export function binGrey(g: GreyImage, f: number, arena?: Float32Arena): GreyImage {
  if (f <= 1) return g;
  const w = Math.floor(g.width / f);
  const h = Math.floor(g.height / f);
  const out = arena ? arena.take(w * h) : new Float32Array(w * h);
  const inv = 1 / (f * f);
  const d = g.data, gw = g.width;
  if (f === 2) {
    for (let y = 0; y < h; y++) {
      const r0 = 2 * y * gw, r1 = r0 + gw, o = y * w;
      for (let x = 0; x < w; x++) {
        const j = 2 * x;
        out[o + x] = (d[r0 + j]! + d[r0 + j + 1]! + d[r1 + j]! + d[r1 + j + 1]!) * inv;
      }
    }
    return { data: out, width: w, height: h };
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = 0; dy < f; dy++) {
        const row = (y * f + dy) * g.width + x * f;
        for (let dx = 0; dx < f; dx++) s += g.data[row + dx]!;
      }
      out[y * w + x] = s * inv;
    }
  }
  return { data: out, width: w, height: h };
}

/** Bilinear sample with edge clamping. */
export function sampleGrey(g: GreyImage, x: number, y: number): number {
  const w = g.width, h = g.height;
  if (x < 0) x = 0; else if (x > w - 1) x = w - 1;
  if (y < 0) y = 0; else if (y > h - 1) y = h - 1;
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
  const fx = x - x0, fy = y - y0;
  const d = g.data;
  const a = d[y0 * w + x0]!, b = d[y0 * w + x1]!, c = d[y1 * w + x0]!, e = d[y1 * w + x1]!;
  return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + e * fx) * fy;
}

/** The horizontal pass's buffer, shared by every blur of this thread (read only within one call). */
const blurPass = scratchFloat32();

/** Separable Gaussian blur (sigma in pixels), edges clamped; `arena`: where the result's pixels come from. */
export function blurGrey(g: GreyImage, sigma: number, arena?: Float32Arena): GreyImage {
  if (sigma <= 0) return g;
  const r = Math.max(1, Math.ceil(sigma * 2.5));
  const k32 = new Float32Array(2 * r + 1);
  let ks = 0;
  for (let i = -r; i <= r; i++) ks += k32[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k32.length; i++) k32[i]! /= ks;
  const k = Float64Array.from(k32); // exact copy of the float32 taps (faster reads)
  const { width: w, height: h } = g;
  const src = g.data;
  const tmp = blurPass.take(w * h); // every element is written by the horizontal pass
  const out = arena ? arena.take(w * h) : new Float32Array(w * h);
  const kn = k.length;
  const line = new Float64Array(Math.max(w, h) + 2 * r);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let i = 0; i < r; i++) { line[i] = src[row]!; line[r + w + i] = src[row + w - 1]!; }
    for (let x = 0; x < w; x++) line[r + x] = src[row + x]!;
    if (kn === 9) {
      // the common case (sigma 1.5 of the tracker), unrolled: same terms, same order
      const k0 = k[0]!, k1 = k[1]!, k2 = k[2]!, k3 = k[3]!, k4 = k[4]!, k5 = k[5]!, k6 = k[6]!, k7 = k[7]!, k8 = k[8]!;
      for (let x = 0; x < w; x++) {
        tmp[row + x] = 0 + k0 * line[x]! + k1 * line[x + 1]! + k2 * line[x + 2]! + k3 * line[x + 3]! + k4 * line[x + 4]! + k5 * line[x + 5]! + k6 * line[x + 6]! + k7 * line[x + 7]! + k8 * line[x + 8]!;
      }
      continue;
    }
    if (kn === 7) {
      const k0 = k[0]!, k1 = k[1]!, k2 = k[2]!, k3 = k[3]!, k4 = k[4]!, k5 = k[5]!, k6 = k[6]!;
      for (let x = 0; x < w; x++) {
        tmp[row + x] = 0 + k0 * line[x]! + k1 * line[x + 1]! + k2 * line[x + 2]! + k3 * line[x + 3]! + k4 * line[x + 4]! + k5 * line[x + 5]! + k6 * line[x + 6]!;
      }
      continue;
    }
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let i = 0; i < kn; i++) s += k[i]! * line[x + i]!;
      tmp[row + x] = s;
    }
  }
  // vertical pass row by row (cache-friendly); same terms summed in the same order as a column walk
  const acc = new Float64Array(w);
  const rows = new Int32Array(kn);
  for (let y = 0; y < h; y++) {
    if (kn === 9) {
      for (let i = 0; i < kn; i++) { let yy = y + i - r; if (yy < 0) yy = 0; else if (yy > h - 1) yy = h - 1; rows[i] = yy * w; }
      const k0 = k[0]!, k1 = k[1]!, k2 = k[2]!, k3 = k[3]!, k4 = k[4]!, k5 = k[5]!, k6 = k[6]!, k7 = k[7]!, k8 = k[8]!;
      const q0 = rows[0]!, q1 = rows[1]!, q2 = rows[2]!, q3 = rows[3]!, q4 = rows[4]!, q5 = rows[5]!, q6 = rows[6]!, q7 = rows[7]!, q8 = rows[8]!;
      const o = y * w;
      for (let x = 0; x < w; x++) {
        out[o + x] = 0 + k0 * tmp[q0 + x]! + k1 * tmp[q1 + x]! + k2 * tmp[q2 + x]! + k3 * tmp[q3 + x]! + k4 * tmp[q4 + x]! + k5 * tmp[q5 + x]! + k6 * tmp[q6 + x]! + k7 * tmp[q7 + x]! + k8 * tmp[q8 + x]!;
      }
      continue;
    }
    if (kn === 7) {
      for (let i = 0; i < kn; i++) { let yy = y + i - r; if (yy < 0) yy = 0; else if (yy > h - 1) yy = h - 1; rows[i] = yy * w; }
      const k0 = k[0]!, k1 = k[1]!, k2 = k[2]!, k3 = k[3]!, k4 = k[4]!, k5 = k[5]!, k6 = k[6]!;
      const q0 = rows[0]!, q1 = rows[1]!, q2 = rows[2]!, q3 = rows[3]!, q4 = rows[4]!, q5 = rows[5]!, q6 = rows[6]!;
      const o = y * w;
      for (let x = 0; x < w; x++) {
        out[o + x] = 0 + k0 * tmp[q0 + x]! + k1 * tmp[q1 + x]! + k2 * tmp[q2 + x]! + k3 * tmp[q3 + x]! + k4 * tmp[q4 + x]! + k5 * tmp[q5 + x]! + k6 * tmp[q6 + x]!;
      }
      continue;
    }
    acc.fill(0);
    for (let i = 0; i < kn; i++) {
      let yy = y + i - r;
      if (yy < 0) yy = 0; else if (yy > h - 1) yy = h - 1;
      const kv = k[i]!, src0 = yy * w;
      for (let x = 0; x < w; x++) acc[x]! += kv * tmp[src0 + x]!;
    }
    out.set(acc, y * w);
  }
  return { data: out, width: w, height: h };
}

export function meanStd(a: ArrayLike<number>): { mean: number; std: number } {
  let s = 0, s2 = 0;
  const n = a.length;
  for (let i = 0; i < n; i++) { const v = a[i]!; s += v; s2 += v * v; }
  const mean = n ? s / n : 0;
  return { mean, std: n ? Math.sqrt(Math.max(0, s2 / n - mean * mean)) : 0 };
}

export function percentile(values: ArrayLike<number>, p: number): number {
  const a = Float64Array.from(values as ArrayLike<number>).sort();
  if (!a.length) return 0;
  const i = Math.min(a.length - 1, Math.max(0, Math.round((p / 100) * (a.length - 1))));
  return a[i]!;
}

export function median(values: ArrayLike<number>): number {
  return percentile(values, 50);
}

export const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : Number.isFinite(v) ? v : 0);

/** Linear ramp: 0 at `lo`, 1 at `hi` (either order), clamped. */
export function ramp(v: number, lo: number, hi: number): number {
  return clamp01((v - lo) / (hi - lo));
}

// ---- decode / encode (sharp) ----

/** Decode JPEG/PNG/WebP to RGB (EXIF orientation applied, alpha flattened, greyscale expanded). */
export async function decodeRgb(bytes: Uint8Array, maxSide = 1280): Promise<RgbImage> {
  const { default: sharp } = await import('sharp');
  const { data, info } = await sharp(bytes, { limitInputPixels: 40_000_000, failOn: 'error' })
    .autoOrient()
    .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
    .flatten({ background: { r: 128, g: 128, b: 128 } })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`unexpected channel count ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height };
}

export async function encodeJpeg(img: RgbImage, quality = 90): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:2:0' })
    .toBuffer();
}

export async function encodePng(img: RgbImage): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  return sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), { raw: { width: img.width, height: img.height, channels: 3 } })
    .png({ compressionLevel: 3 })
    .toBuffer();
}
