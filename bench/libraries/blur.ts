/**
 * The tracker's pre-blur (blurGrey, src/liveness/image.ts: separable Gaussian, σ 1.5, 9 taps,
 * edges clamped, float32) against sharp (libvips, a dependency already: blur on a float raw image)
 * and OpenCV's GaussianBlur (@techstark/opencv-js, CV_32F, BORDER_REPLICATE), on a 320×240 frame.
 *   npm install --no-save @techstark/opencv-js@4.12.0-release.1
 *   nice -n 10 node bench/libraries/blur.ts
 */
import sharp from 'sharp';
import { blurGrey } from '../../src/liveness/image.ts';
import { seededRng } from '../../src/liveness/rng.ts';
import { fmt, msPerCall, optional } from './common.ts';

let cv = optional('@techstark/opencv-js', '@techstark/opencv-js@4.12.0-release.1');
if (cv instanceof Promise) cv = await cv;
else if (!cv.Mat) await new Promise<void>((r) => { cv.onRuntimeInitialized = r; });

const W = 320, H = 240, SIGMA = 1.5;
const rng = seededRng(3);
const data = new Float32Array(W * H);
for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[y * W + x] = Math.round(128 + 60 * Math.sin(x / 7) * Math.cos(y / 5) + 40 * (rng.next() - 0.5));
const g = { data, width: W, height: H };

const ours = blurGrey(g, SIGMA).data;
const src = cv.matFromArray(H, W, cv.CV_32FC1, data), dst = new cv.Mat();
const ksize = new cv.Size(9, 9);
const opencv = () => cv.GaussianBlur(src, dst, ksize, SIGMA, SIGMA, cv.BORDER_REPLICATE);
opencv();
const cvOut = dst.data32F as Float32Array;
const sharpBlur = () => sharp(Buffer.from(data.buffer), { raw: { width: W, height: H, channels: 1 } }).blur(SIGMA).extractChannel(0).raw({ depth: 'float' }).toBuffer();
const sh = await sharpBlur();
const shOut = new Float32Array(sh.buffer, sh.byteOffset, sh.byteLength / 4);

const maxDiff = (a: Float32Array, b: Float32Array, inner = 0) => {
  let d = 0;
  for (let y = inner; y < H - inner; y++) for (let x = inner; x < W - inner; x++) d = Math.max(d, Math.abs(a[y * W + x]! - b[y * W + x]!));
  return d;
};
console.log(`max difference from ours (grey levels): OpenCV ${maxDiff(ours, cvOut).toFixed(4)}; sharp ${maxDiff(ours, shOut, 8).toFixed(3)}${maxDiff(ours, shOut, 8) > 1 ? ' (not the same numbers: its float raw path does not keep our grey levels; timed anyway)' : ''}`);

const tOurs = msPerCall(() => blurGrey(g, SIGMA), 31, 50), tCv = msPerCall(opencv, 31, 50);
const shTimes: number[] = [];
for (let r = 0; r < 31; r++) { const t0 = performance.now(); for (let i = 0; i < 20; i++) await sharpBlur(); shTimes.push((performance.now() - t0) / 20); }
shTimes.sort((a, b) => a - b);
console.log('| Gaussian blur σ 1.5 of a 320×240 float frame | ms per call (median of 31 runs) |\n| --- | --- |');
console.log(`| ours (blurGrey) | ${fmt(tOurs)} |`);
console.log(`| OpenCV 4.12 wasm GaussianBlur, 9×9, CV_32F | ${fmt(tCv)} |`);
console.log(`| sharp ${sharp.versions.sharp} blur (float raw in and out, async) | ${fmt(shTimes[15]!)} |`);
src.delete(); dst.delete();
