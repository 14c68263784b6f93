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

/** Cheap checks that need no decoding (also run on the caller's thread before queueing). */
export function precheck(bytes: Uint8Array, maxBytes: number): 'jpeg' | 'png' | 'webp' {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new FaceError('IMAGE_INVALID', 'empty input');
  if (bytes.length > maxBytes) throw new FaceError('IMAGE_TOO_LARGE', `image over ${maxBytes} bytes`, { value: bytes.length, limit: maxBytes });
  const fmt = sniffFormat(bytes);
  if (!fmt) throw new FaceError('IMAGE_INVALID', 'not a JPEG, PNG or WebP image');
  return fmt;
}
