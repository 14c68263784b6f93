/**
 * The hand-written radix-2 FFT that src/liveness/fft.ts had (kept in ./radix2-fft.ts) against the
 * maintained npm FFTs and against src/liveness/fft.ts now (on fft.js), on what screen_moire runs:
 * the Hann-windowed power spectrum of a 64×64 patch (up to 8 patches × 3 channels per face), and a
 * bare 64-point complex FFT. Checks the spectra agree, then prints the median ms per call.
 *   npm install --no-save ndarray-fft@1.0.3 ndarray@1.0.19   (fft.js is a dependency)
 *   nice -n 10 node bench/libraries/fft.ts
 */
import FFT from 'fft.js';
import { accumulatePowerSpectrum2d as srcAccumulate } from '../../src/liveness/fft.ts';
import { accumulatePowerSpectrum2d, fft as ourFft } from './radix2-fft.ts';
import { seededRng } from '../../src/liveness/rng.ts';
import { fmt, msPerCall, optional } from './common.ts';

const ndarray = optional('ndarray', 'ndarray@1.0.19');
const ndfft = optional('ndarray-fft', 'ndarray-fft@1.0.3');

const N = 64; // MOIRE.patch in src/liveness/signals/screen.ts
const rng = seededRng(7);
// a face-like patch: smooth shading, noise, and a faint screen grid (what the signal looks for)
const patch = new Float64Array(N * N);
for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) patch[y * N + x] = 120 + 40 * Math.sin(x / 9) * Math.cos(y / 13) + 6 * (rng.next() - 0.5) + 3 * Math.sin(2 * Math.PI * 0.31 * x);

// the window and mean removal every variant applies (as accumulatePowerSpectrum2d does)
const w = new Float64Array(N);
for (let i = 0; i < N; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / N);
function windowed(out: Float64Array): void {
  let mean = 0;
  for (let i = 0; i < N * N; i++) mean += patch[i]!;
  mean /= N * N;
  for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) out[y * N + x] = (patch[y * N + x]! - mean) * w[x]! * w[y]!;
}

// ours
const oursAcc = new Float64Array(N * N);
const ours = () => { oursAcc.fill(0); accumulatePowerSpectrum2d(patch, N, oursAcc); };

// src/liveness/fft.ts now
const srcAcc = new Float64Array(N * N);
const src = () => { srcAcc.fill(0); srcAccumulate(patch, N, srcAcc); };

// fft.js written out here: real transform of each row (half spectrum, completed), then complex transforms of the columns
const f = new FFT(N);
const rowIn = new Float64Array(N), rowOut = new Float64Array(2 * N), colIn = new Float64Array(2 * N), colOut = new Float64Array(2 * N);
const fjRe = new Float64Array(N * N), fjIm = new Float64Array(N * N), fjWin = new Float64Array(N * N), fjAcc = new Float64Array(N * N);
const fftjs = () => {
  windowed(fjWin);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) rowIn[x] = fjWin[y * N + x]!;
    f.realTransform(rowOut, rowIn);
    f.completeSpectrum(rowOut);
    for (let x = 0; x < N; x++) { fjRe[y * N + x] = rowOut[2 * x]!; fjIm[y * N + x] = rowOut[2 * x + 1]!; }
  }
  fjAcc.fill(0);
  for (let x = 0; x < N; x++) {
    for (let y = 0; y < N; y++) { colIn[2 * y] = fjRe[y * N + x]!; colIn[2 * y + 1] = fjIm[y * N + x]!; }
    f.transform(colOut, colIn);
    for (let y = 0; y < N; y++) fjAcc[y * N + x]! += colOut[2 * y]! ** 2 + colOut[2 * y + 1]! ** 2;
  }
};

// ndarray-fft: 2D in place on ndarrays
const ndRe = new Float64Array(N * N), ndIm = new Float64Array(N * N), ndAcc = new Float64Array(N * N);
const ndR = ndarray(ndRe, [N, N]), ndI = ndarray(ndIm, [N, N]);
const ndfftRun = () => {
  windowed(ndRe);
  ndIm.fill(0);
  ndfft(1, ndR, ndI);
  for (let i = 0; i < N * N; i++) ndAcc[i] = ndRe[i]! ** 2 + ndIm[i]! ** 2;
};

// same numbers?
ours(); src(); fftjs(); ndfftRun();
const maxRel = (a: Float64Array, b: Float64Array) => {
  let peak = 0, d = 0;
  for (let i = 0; i < a.length; i++) { peak = Math.max(peak, a[i]!); d = Math.max(d, Math.abs(a[i]! - b[i]!)); }
  return d / peak;
};
const tol = 1e-9;
const checks = { 'src (fft.js)': maxRel(oursAcc, srcAcc), 'fft.js': maxRel(oursAcc, fjAcc), 'ndarray-fft': maxRel(oursAcc, ndAcc) };
for (const [name, e] of Object.entries(checks)) {
  if (!(e < tol)) { console.error(`${name}: spectrum differs from ours (max error ${e} of the peak)`); process.exit(1); }
}

// 1D, 64 points complex
// (the in-place one is given a fresh copy of its input each call, the out-of-place one too, to be fair)
const re = new Float64Array(N), im = new Float64Array(N), cin = new Float64Array(2 * N), cout = new Float64Array(2 * N);
const src0 = patch.subarray(0, N);
const one = { ours: () => { re.set(src0); im.fill(0); ourFft(re, im); }, 'fft.js': () => { for (let i = 0; i < N; i++) { cin[2 * i] = src0[i]!; cin[2 * i + 1] = 0; } f.transform(cout, cin); } };

const rows: Array<[string, string, string]> = [];
const reps = 200;
rows.push(['64×64 power spectrum (screen_moire patch)', 'hand-written radix-2 (before)', fmt(msPerCall(ours, 31, reps))]);
rows.push(['', 'src/liveness/fft.ts on fft.js 4.0.4 (now)', fmt(msPerCall(src, 31, reps))]);
rows.push(['', 'fft.js 4.0.4 (real rows + complex columns)', fmt(msPerCall(fftjs, 31, reps))]);
rows.push(['', 'ndarray-fft 1.0.3', fmt(msPerCall(ndfftRun, 31, reps))]);
rows.push(['64-point complex FFT', 'hand-written radix-2 (before)', fmt(msPerCall(one.ours, 31, 20_000))]);
rows.push(['', 'fft.js 4.0.4', fmt(msPerCall(one['fft.js'], 31, 20_000))]);
console.log(`spectra agree: max difference ${Object.entries(checks).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(', ')} of the peak (tolerance ${tol})`);
console.log('| what | implementation | ms per call (median of 31 runs) |\n| --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
