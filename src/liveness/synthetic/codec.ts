/** JPEG round trip through sharp (what the capture page's canvas.toBlob + the server's decode do). */
import { decodeRgb, encodeJpeg } from '../image.ts';
import type { RgbImage } from '../types.ts';

export async function jpegRoundTrip(img: RgbImage, quality: number): Promise<RgbImage> {
  return decodeRgb(await encodeJpeg(img, quality));
}
