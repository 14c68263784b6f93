// A YUV4MPEG2 (4:2:0) file for Chromium's fake camera (--use-file-for-fake-video-capture), written
// by hand from RGB frames (sharp makes the pixels). BT.601 limited range, 2×2 averaged chroma.
import { writeFileSync } from 'node:fs';

export function rgbToI420(rgb: Buffer, width: number, height: number): Buffer {
  const ySize = width * height;
  const cw = width / 2;
  const ch = height / 2;
  const out = Buffer.alloc(ySize + 2 * cw * ch);
  for (let i = 0; i < ySize; i++) {
    const r = rgb[i * 3]!, g = rgb[i * 3 + 1]!, b = rgb[i * 3 + 2]!;
    out[i] = Math.round(16 + 0.257 * r + 0.504 * g + 0.098 * b);
  }
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      let r = 0, g = 0, b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
        const p = ((y * 2 + dy) * width + x * 2 + dx) * 3;
        r += rgb[p]!;
        g += rgb[p + 1]!;
        b += rgb[p + 2]!;
      }
      r /= 4; g /= 4; b /= 4;
      out[ySize + y * cw + x] = Math.round(128 - 0.148 * r - 0.291 * g + 0.439 * b);
      out[ySize + cw * ch + y * cw + x] = Math.round(128 + 0.439 * r - 0.368 * g - 0.071 * b);
    }
  }
  return out;
}

/** Writes `frames` (raw RGB, width × height × 3 each) as a y4m file Chromium loops as a camera. */
export function writeY4m(file: string, frames: Buffer[], width: number, height: number, fps = 30): void {
  if (width % 2 || height % 2) throw new RangeError('width and height must be even for 4:2:0');
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`, 'ascii')];
  for (const rgb of frames) {
    if (rgb.length !== width * height * 3) throw new RangeError('frame size does not match width × height × 3');
    parts.push(Buffer.from('FRAME\n', 'ascii'), rgbToI420(rgb, width, height));
  }
  writeFileSync(file, Buffer.concat(parts));
}
