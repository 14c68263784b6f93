/** Checks on raw bytes that need no decoder (safe on the HTTP thread: no sharp, no tfjs). */
import { FaceError } from './errors.ts';

/** Uploads (selfies, portrait_image) default to 1 MB. */
export const DEFAULT_MAX_BYTES = 1024 * 1024;
/** The CLI reads local files up to 25 MB. */
export const CLI_MAX_BYTES = 25 * 1024 * 1024;

export function sniffFormat(b: Uint8Array): 'jpeg' | 'png' | 'webp' | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 &&
      b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) return 'png';
  if (b.length >= 12 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 &&
      b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'webp';
  return undefined;
}

/** Cheap checks that need no decoding (also run on the caller's thread before queueing): size, format, declared dimensions. */
export function precheck(bytes: Uint8Array, maxBytes: number): 'jpeg' | 'png' | 'webp' {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new FaceError('IMAGE_INVALID', 'empty input');
  if (bytes.length > maxBytes) throw new FaceError('IMAGE_TOO_LARGE', `image over ${maxBytes} bytes`, { value: bytes.length, limit: maxBytes });
  const fmt = sniffFormat(bytes);
  if (!fmt) throw new FaceError('IMAGE_INVALID', 'not a JPEG, PNG or WebP image');
  const dims = headerDimensions(bytes);
  if (dims && dims.width * dims.height > MAX_PIXELS) {
    throw new FaceError('IMAGE_TOO_LARGE', `image over ${MAX_PIXELS / 1e6} megapixels`, { value: dims.width * dims.height, limit: MAX_PIXELS });
  }
  return fmt;
}

/** 40 megapixels decoded at most. */
export const MAX_PIXELS = 40_000_000;

/**
 * Width and height declared by the image header (PNG IHDR, JPEG SOFn, WebP VP8/VP8L/VP8X), read
 * without decoding; undefined when the header cannot be found.
 */
export function headerDimensions(b: Uint8Array): { width: number; height: number } | undefined {
  const fmt = sniffFormat(b);
  const u16be = (o: number) => (b[o]! << 8) | b[o + 1]!;
  const u32be = (o: number) => ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
  const u16le = (o: number) => b[o]! | (b[o + 1]! << 8);
  const u24le = (o: number) => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);
  if (fmt === 'png') {
    if (b.length < 24 || String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== 'IHDR') return undefined;
    return { width: u32be(16), height: u32be(20) };
  }
  if (fmt === 'jpeg') {
    let o = 2;
    for (let guard = 0; guard < 10_000 && o + 9 < b.length; guard++) {
      if (b[o] !== 0xff) return undefined;
      const m = b[o + 1]!;
      if (m === 0xff) { o++; continue; }
      if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) { o += 2; continue; }
      if (m === 0xd9 || m === 0xda) return undefined;
      const len = u16be(o + 2);
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
        return { width: u16be(o + 7), height: u16be(o + 5) };
      }
      o += 2 + len;
    }
    return undefined;
  }
  if (fmt === 'webp' && b.length >= 30) {
    const chunk = String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!);
    if (chunk === 'VP8 ') return { width: u16le(26) & 0x3fff, height: u16le(28) & 0x3fff };
    if (chunk === 'VP8L') {
      const bits = (b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)) >>> 0;
      return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    }
    if (chunk === 'VP8X') return { width: u24le(24) + 1, height: u24le(27) + 1 };
  }
  return undefined;
}
