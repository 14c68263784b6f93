// Real clips (../shared/clips-real, MP4/H.264) as cameras for Chromium's fake capture device, which
// plays only y4m. No ffmpeg on the machine: Debian's Chromium decodes the MP4 itself (a <video>
// element seeked frame by frame, drawn on a canvas), and the liveness module's y4m writer encodes
// the frames. Converted files are cached (data/ is ignored by git; the clips are not ours to ship).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { parseY4m } from '../../src/liveness/y4m.ts';
import { CHROMIUM } from './chromium.ts';
import { SHARED_DIR } from './env.ts';
import { selfieRgb } from './verifier.ts';
import { writeY4m } from './y4m.ts';

export const CLIPS_DIR = path.join(SHARED_DIR, 'clips-real');
export const CLIP_CACHE = path.resolve(import.meta.dirname, '../../data/clips-y4m');

/** The clips in CLIPS_DIR (live.mp4, replay-phone.mp4): names without the extension. */
export function realClips(): string[] {
  return existsSync(CLIPS_DIR) ? readdirSync(CLIPS_DIR).filter((f) => f.endsWith('.mp4')).map((f) => f.slice(0, -4)).sort() : [];
}

/**
 * `name`.mp4 from CLIPS_DIR as a 640×480 y4m at the clip's 30 fps (centre crop to 4:3, so the face
 * keeps its proportions), converted once and cached (the first `maxSeconds` only, if given: the
 * fake camera loops the file). Returns the y4m's path.
 */
export async function clipY4m(name: string, opts: { width?: number; height?: number; fps?: number; maxSeconds?: number } = {}): Promise<string> {
  const width = opts.width ?? 640, height = opts.height ?? 480, fps = opts.fps ?? 30, maxSeconds = opts.maxSeconds ?? Infinity;
  const out = path.join(CLIP_CACHE, `${name}-${width}x${height}-${fps}${Number.isFinite(maxSeconds) ? `-${maxSeconds}s` : ''}.y4m`);
  if (existsSync(out)) return out;
  mkdirSync(CLIP_CACHE, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--allow-file-access-from-files'] });
  try {
    const page = await browser.newPage();
    // a file:// page may load the clip from file:// (same origin, so the canvas is readable)
    await page.goto(`file://${path.join(CLIPS_DIR, 'SOURCES.md')}`);
    const frames = await page.evaluate(async ({ src, width, height, fps, maxSeconds }) => {
      const v = document.createElement('video');
      v.muted = true;
      v.src = src;
      await new Promise<void>((ok, fail) => { v.onloadeddata = () => ok(); v.onerror = () => fail(new Error(`cannot decode ${src}: ${v.error?.message}`)); });
      const c = document.createElement('canvas');
      c.width = width; c.height = height;
      const g = c.getContext('2d', { willReadFrequently: true })!;
      // centre crop to the output's aspect ratio
      const sw = Math.min(v.videoWidth, (v.videoHeight * width) / height), sh = (sw * height) / width;
      const sx = (v.videoWidth - sw) / 2, sy = (v.videoHeight - sh) / 2;
      const out: string[] = [];
      const n = Math.floor(Math.min(v.duration, maxSeconds) * fps);
      for (let i = 0; i < n; i++) {
        // the middle of frame i: a seek lands on the frame shown at that time
        await new Promise<void>((ok) => { v.onseeked = () => ok(); v.currentTime = (i + 0.5) / fps; });
        g.drawImage(v, sx, sy, sw, sh, 0, 0, width, height);
        const rgba = g.getImageData(0, 0, width, height).data;
        const rgb = new Uint8Array(width * height * 3);
        for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) { rgb[q] = rgba[p]!; rgb[q + 1] = rgba[p + 1]!; rgb[q + 2] = rgba[p + 2]!; }
        let s = '';
        for (let k = 0; k < rgb.length; k += 0x8000) s += String.fromCharCode(...rgb.subarray(k, k + 0x8000));
        out.push(btoa(s));
      }
      return out;
    }, { src: `file://${path.join(CLIPS_DIR, `${name}.mp4`)}`, width, height, fps, maxSeconds: Number.isFinite(maxSeconds) ? maxSeconds : 1e9 });
    if (!frames.length) throw new Error(`${name}.mp4: no frames decoded`);
    const tmp = `${out}.${process.pid}.tmp`;
    writeY4m(tmp, frames.map((b) => Buffer.from(b, 'base64')), width, height, fps);
    renameSync(tmp, out);
    return out;
  } finally {
    await browser.close();
  }
}

/**
 * A still photo as the camera: the shared face crop `name``n` centred on a plain 640×480 background
 * (as the suite's other still cameras), the same frame over and over.
 */
export async function stillFaceY4m(name: string, n: number, dir: string): Promise<string> {
  const file = path.join(dir, `still-${name}${n}.y4m`);
  if (!existsSync(file)) {
    const rgb = await selfieRgb(name, n);
    writeY4m(file, [rgb, rgb], 640, 480, 30);
  }
  return file;
}

/** A JPEG of one frame of a y4m (a reference portrait of the clip's person). */
export async function y4mFrameJpeg(file: string, index: number): Promise<Buffer> {
  const v = parseY4m(readFileSync(file), { maxFrames: index + 1 });
  const f = v.frames[Math.min(index, v.frames.length - 1)]!;
  return sharp(Buffer.from(f.data), { raw: { width: f.width, height: f.height, channels: 3 } }).jpeg({ quality: 92 }).toBuffer();
}
