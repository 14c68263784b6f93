// A YUV4MPEG2 (4:2:0) file for Chromium's fake camera (--use-file-for-fake-video-capture), from raw
// RGB frames (sharp makes the pixels), written by the liveness module's own y4m writer.
import { writeFileSync } from 'node:fs';
import { writeY4m as encodeY4m } from '../../src/liveness/y4m.ts';

/** Writes `frames` (raw RGB, width × height × 3 each) as a y4m file Chromium loops as a camera. */
export function writeY4m(file: string, frames: Buffer[], width: number, height: number, fps = 30): void {
  for (const rgb of frames) {
    if (rgb.length !== width * height * 3) throw new RangeError('frame size does not match width × height × 3');
  }
  writeFileSync(file, encodeY4m(frames.map((data) => ({ data, width, height })), fps));
}
