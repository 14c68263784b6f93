/**
 * Image decoding and pixel helpers. Decoding is done by sharp (libvips); the caps are checked from
 * the header before any pixel is decoded.
 */
import sharp from 'sharp';
import { FaceError } from './errors.ts';
import { DEFAULT_MAX_BYTES, MAX_PIXELS, precheck } from './sniff.ts';

export { CLI_MAX_BYTES, DEFAULT_MAX_BYTES, MAX_PIXELS, headerDimensions, precheck, sniffFormat } from './sniff.ts';

/** Decoded RGB image, 3 bytes per pixel, row-major. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface DecodedImage extends RgbImage {
  /** Size after EXIF orientation and before downscale. */
  originalWidth: number;
  originalHeight: number;
  /** originalWidth / width (>= 1). */
  scale: number;
  format: string;
}

/** Larger photos are downscaled to fit this box before detection. */
export const WORK_MAX_SIDE = 1280;

/**
 * Decode to RGB: EXIF orientation applied, greyscale/CMYK/alpha converted to sRGB, downscaled to fit
 * WORK_MAX_SIDE. IMAGE_TOO_LARGE for more than 40 MP (from the header, without decoding).
 */
export async function decodeImage(bytes: Uint8Array, maxBytes = DEFAULT_MAX_BYTES): Promise<DecodedImage> {
  const format = precheck(bytes, maxBytes);
  const meta = await sharp(bytes, { limitInputPixels: false }).metadata().catch(() => {
    throw new FaceError('IMAGE_INVALID', 'unreadable image header');
  });
  const w0 = meta.width ?? 0;
  const h0 = meta.height ?? 0;
  if (!w0 || !h0) throw new FaceError('IMAGE_INVALID', 'image has no size');
  if (w0 * h0 > MAX_PIXELS || (meta.pages ?? 1) > 1) {
    if ((meta.pages ?? 1) > 1) throw new FaceError('IMAGE_INVALID', 'animated or multi-page images are not accepted');
    throw new FaceError('IMAGE_TOO_LARGE', `image over ${MAX_PIXELS / 1e6} megapixels`, { value: w0 * h0, limit: MAX_PIXELS });
  }
  // EXIF orientations 5-8 swap width and height.
  const swap = (meta.orientation ?? 1) >= 5;
  const originalWidth = swap ? h0 : w0;
  const originalHeight = swap ? w0 : h0;
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error', sequentialRead: true })
      .autoOrient()
      .resize({ width: WORK_MAX_SIDE, height: WORK_MAX_SIDE, fit: 'inside', withoutEnlargement: true })
      .flatten({ background: { r: 128, g: 128, b: 128 } })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected channel count ${info.channels}`);
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      originalWidth,
      originalHeight,
      scale: originalWidth / info.width,
      format,
    };
  } catch (e) {
    if (e instanceof FaceError) throw e;
    throw new FaceError('IMAGE_INVALID', 'image could not be decoded');
  }
}

/**
 * Letterbox the image into a size×size square (content top-left, black padding) as the tiny face
 * detector expects. Returns the pixels and the factor from square coordinates back to `img` pixels.
 */
export async function letterbox(img: RgbImage, size: number): Promise<{ data: Uint8Array; factor: number }> {
  const side = Math.max(img.width, img.height);
  const factor = side / size;
  const w = Math.max(1, Math.round(img.width / factor));
  const h = Math.max(1, Math.round(img.height / factor));
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(w, h, { fit: 'fill', kernel: 'linear' })
    .extend({ right: size - w, bottom: size - h, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), factor };
}

/** Copy a rectangle (clipped to the image) into a new RGB image. */
export function crop(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  const x0 = Math.max(0, Math.floor(x));
  const y0 = Math.max(0, Math.floor(y));
  const x1 = Math.min(img.width, Math.ceil(x + w));
  const y1 = Math.min(img.height, Math.ceil(y + h));
  const cw = Math.max(1, x1 - x0);
  const ch = Math.max(1, y1 - y0);
  const out = new Uint8Array(cw * ch * 3);
  for (let r = 0; r < ch; r++) {
    const src = ((y0 + r) * img.width + x0) * 3;
    out.set(img.data.subarray(src, src + cw * 3), r * cw * 3);
  }
  return { data: out, width: cw, height: ch };
}

/**
 * Resample with an affine map from output pixel (u, v) to source (x, y):
 * x = a*u + b*v + c, y = d*u + e*v + f. Bilinear; outside pixels replicate the border.
 */
export function warpAffine(img: RgbImage, m: readonly [number, number, number, number, number, number], outW: number, outH: number): RgbImage {
  const [a, b, c, d, e, f] = m;
  const out = new Uint8Array(outW * outH * 3);
  const W = img.width;
  const H = img.height;
  const src = img.data;
  let o = 0;
  for (let v = 0; v < outH; v++) {
    for (let u = 0; u < outW; u++) {
      let x = a * u + b * v + c;
      let y = d * u + e * v + f;
      if (x < 0) x = 0; else if (x > W - 1) x = W - 1;
      if (y < 0) y = 0; else if (y > H - 1) y = H - 1;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const x1 = x0 + 1 < W ? x0 + 1 : x0;
      const y1 = y0 + 1 < H ? y0 + 1 : y0;
      const fx = x - x0;
      const fy = y - y0;
      const i00 = (y0 * W + x0) * 3;
      const i01 = (y0 * W + x1) * 3;
      const i10 = (y1 * W + x0) * 3;
      const i11 = (y1 * W + x1) * 3;
      for (let ch = 0; ch < 3; ch++) {
        const top = src[i00 + ch]! + (src[i01 + ch]! - src[i00 + ch]!) * fx;
        const bot = src[i10 + ch]! + (src[i11 + ch]! - src[i10 + ch]!) * fx;
        out[o++] = Math.round(top + (bot - top) * fy);
      }
    }
  }
  return { data: out, width: outW, height: outH };
}

/** Downscale with sharp (area-averaging), for when a face is much larger than the chip. */
export async function downscale(img: RgbImage, factor: number): Promise<RgbImage> {
  const w = Math.max(1, Math.round(img.width / factor));
  const h = Math.max(1, Math.round(img.height / factor));
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(w, h, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), width: w, height: h };
}

/** Luminance (Rec. 601) 0..255 as floats. */
export function luminance(img: RgbImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const d = img.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = 0.299 * d[j]! + 0.587 * d[j + 1]! + 0.114 * d[j + 2]!;
  return out;
}
