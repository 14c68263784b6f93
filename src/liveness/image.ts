/**
 * Pixel helpers for the liveness signals: pure functions on RGB / grey buffers, plus decode/encode
 * through sharp (only decodeRgb, encodeJpeg and encodePng touch sharp).
 */
import type { Box, GreyImage, RgbImage } from './types.ts';

export function greyOf(img: RgbImage): GreyImage {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const d = img.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = 0.299 * d[j]! + 0.587 * d[j + 1]! + 0.114 * d[j + 2]!;
  return { data: out, width: img.width, height: img.height };
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

/** Downscale by an integer factor with box averaging (anti-aliased, cheap). */
export function binGrey(g: GreyImage, f: number): GreyImage {
  if (f <= 1) return g;
  const w = Math.floor(g.width / f);
  const h = Math.floor(g.height / f);
  const out = new Float32Array(w * h);
  const inv = 1 / (f * f);
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

/** Separable Gaussian blur (sigma in pixels), edges clamped. */
export function blurGrey(g: GreyImage, sigma: number): GreyImage {
  if (sigma <= 0) return g;
  const r = Math.max(1, Math.ceil(sigma * 2.5));
  const k = new Float32Array(2 * r + 1);
  let ks = 0;
  for (let i = -r; i <= r; i++) ks += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= ks;
  const { width: w, height: h } = g;
  const src = g.data;
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  const kn = k.length;
  const line = new Float32Array(Math.max(w, h) + 2 * r);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let i = 0; i < r; i++) { line[i] = src[row]!; line[r + w + i] = src[row + w - 1]!; }
    for (let x = 0; x < w; x++) line[r + x] = src[row + x]!;
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let i = 0; i < kn; i++) s += k[i]! * line[x + i]!;
      tmp[row + x] = s;
    }
  }
  for (let x = 0; x < w; x++) {
    for (let i = 0; i < r; i++) { line[i] = tmp[x]!; line[r + h + i] = tmp[(h - 1) * w + x]!; }
    for (let y = 0; y < h; y++) line[r + y] = tmp[y * w + x]!;
    for (let y = 0; y < h; y++) {
      let s = 0;
      for (let i = 0; i < kn; i++) s += k[i]! * line[y + i]!;
      out[y * w + x] = s;
    }
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
