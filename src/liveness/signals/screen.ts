/**
 * Screen and print evidence on the face itself (PASSIVE, single frame; applies to tight crops too).
 *
 * - screen_moire: a pixel grid (screen) or halftone screen (print) resampled by the camera leaves
 *   isolated peaks in the spectrum of the face area. Welch-averaged power spectra of 64 px patches,
 *   whitened by their radial median, are searched for peaks far above the 1/f background (JPEG's
 *   8-pixel block frequencies excluded). Luminance and colour-difference channels are checked.
 * - screen_glare: a large clipped highlight over the face (reflection on glass or glossy paper).
 * - print_texture: ink on paper has a compressed contrast range (no deep blacks in eyes and
 *   nostrils) and a reduced colour gamut; only the contrast part applies to greyscale input.
 */
import { accumulatePowerSpectrum2d } from '../fft.ts';
import { clamp01, clipBox, cropRgb, greyOf, ramp } from '../image.ts';
import type { Box, FaceGeometry, GreyImage, RgbImage, SignalResult } from '../types.ts';
import { livenessWarning } from '../warnings.ts';

export const MOIRE = {
  patch: 64,
  /** Whitened peak height (power over the radial median): ramp from `clean` to `moire`. */
  clean: 14,
  moire: 40,
  /** Frequencies searched, as a fraction of the sampling rate (0.5 = Nyquist). */
  minFreq: 0.09,
  /** Near Nyquist, resampling, sharpening and demosaicking leave structure in ordinary photos. */
  maxFreq: 0.42,
  /** Chroma is stored at half resolution (JPEG and y4m 4:2:0): above ≈ 0.25 it is upsampling, not scene. */
  maxChromaFreq: 0.22,
  /** A peak must be this many times the median of the 5×5 ring around it (a tone, not broad structure). */
  prominence: 4,
  /** Patches averaged (Welch): more is steadier and slower. */
  maxPatches: 8,
} as const;

function innerFace(b: Box): Box {
  return { x: b.x + 0.15 * b.width, y: b.y + 0.15 * b.height, width: 0.7 * b.width, height: 0.75 * b.height };
}

export function isGreyscale(img: RgbImage, region?: Box): boolean {
  const r = region ? clipBox(region, img.width, img.height) : { x: 0, y: 0, width: img.width, height: img.height };
  if (!r) return true;
  let diff = 0, n = 0;
  for (let y = r.y; y < r.y + r.height; y += 2) {
    for (let x = r.x; x < r.x + r.width; x += 2) {
      const o = (y * img.width + x) * 3;
      diff += Math.abs(img.data[o]! - img.data[o + 1]!) + Math.abs(img.data[o + 2]! - img.data[o + 1]!);
      n++;
    }
  }
  return diff / Math.max(1, n) < 1.5;
}

const radial = new Map<number, { rad: Float64Array; binStart: Int32Array; binIdx: Int32Array }>();

/** Per spectrum size: the radius of every frequency and the indices of each integer-radius bin (row-major order). */
function radialGeometry(N: number) {
  let g = radial.get(N);
  if (g) return g;
  const half = N / 2;
  const fu = (i: number) => (i <= half ? i : i - N);
  const rad = new Float64Array(N * N);
  const bin = new Int32Array(N * N);
  const counts = new Int32Array(half + 2);
  for (let v = 0; v < N; v++) for (let u = 0; u < N; u++) {
    rad[v * N + u] = Math.hypot(fu(u), fu(v));
    const rr = Math.round(rad[v * N + u]!);
    bin[v * N + u] = rr <= half ? rr : -1;
    if (rr <= half) counts[rr + 1]!++;
  }
  const binStart = new Int32Array(half + 2);
  for (let i = 1; i <= half + 1; i++) binStart[i] = binStart[i - 1]! + counts[i]!;
  const fill = binStart.slice(0, half + 1);
  const binIdx = new Int32Array(binStart[half + 1]!);
  for (let i = 0; i < N * N; i++) if (bin[i]! >= 0) binIdx[fill[bin[i]!]!++] = i;
  g = { rad, binStart, binIdx };
  radial.set(N, g);
  return g;
}

/** Largest whitened spectral peak of a channel over the patches of a region. */
export function spectralPeak(ch: GreyImage, region: Box, N: number = MOIRE.patch, skipAxes = false, maxFreq: number = MOIRE.maxFreq): { peak: number; freq: number; patches: number } {
  const r = clipBox(region, ch.width, ch.height);
  if (!r || r.width < N || r.height < N) return { peak: 0, freq: 0, patches: 0 };
  const stride = N / 2;
  const acc = new Float64Array(N * N);
  let patches = 0;
  const buf = new Float64Array(N * N);
  for (let y = r.y; y + N <= r.y + r.height; y += stride) {
    for (let x = r.x; x + N <= r.x + r.width; x += stride) {
      for (let yy = 0; yy < N; yy++) for (let xx = 0; xx < N; xx++) buf[yy * N + xx] = ch.data[(y + yy) * ch.width + x + xx]!;
      accumulatePowerSpectrum2d(buf, N, acc);
      patches++;
      if (patches >= MOIRE.maxPatches) break;
    }
    if (patches >= MOIRE.maxPatches) break;
  }
  // radial median profile (integer radius bins) over the half plane
  const half = N / 2;
  const fu = (i: number) => (i <= half ? i : i - N);
  const rg = radialGeometry(N);
  const med = new Float64Array(half + 1);
  const vals = new Float64Array(N * N);
  for (let bi = 0; bi <= half; bi++) {
    // values of the bin in the same (row-major) order, numeric typed sort: same median
    const start = rg.binStart[bi]!, end = rg.binStart[bi + 1]!;
    if (end === start) continue;
    for (let j = start; j < end; j++) vals[j] = acc[rg.binIdx[j]!]!;
    const sorted = vals.subarray(start, end).sort();
    med[bi] = sorted[(end - start) >> 1]!;
  }
  let peak = 0, freq = 0;
  const block = N / 8;
  for (let v = 0; v < N; v++) {
    for (let u = 0; u < N; u++) {
      const a = fu(u), b = fu(v);
      const rad = rg.rad[v * N + u]!;
      if (rad < MOIRE.minFreq * N || rad > maxFreq * N) continue;
      // JPEG 8×8 block grid: frequencies that are multiples of N/8 on both axes, and the axes lines of the grid
      if (a % block === 0 && b % block === 0) continue;
      if ((a % block === 0 && Math.abs(b) <= 1) || (b % block === 0 && Math.abs(a) <= 1)) continue;
      const m = med[Math.round(rad)]!;
      if (m <= 0) continue;
      const val = acc[v * N + u]!;
      // horizontal/vertical structure (interlacing, scan lines, compression) lies on the axes
      if (skipAxes && (Math.abs(a) <= 2 || Math.abs(b) <= 2)) continue;
      // an isolated peak: the maximum of its 3×3 neighbourhood and well above the ring around it
      let isMax = true;
      for (let dv = -1; dv <= 1 && isMax; dv++) for (let du = -1; du <= 1; du++) {
        if (!du && !dv) continue;
        if (acc[((v + dv + N) % N) * N + ((u + du + N) % N)]! > val) { isMax = false; break; }
      }
      if (!isMax) continue;
      const ring: number[] = [];
      for (let dv = -2; dv <= 2; dv++) for (let du = -2; du <= 2; du++) {
        if (Math.abs(du) < 2 && Math.abs(dv) < 2) continue;
        ring.push(acc[((v + dv + N) % N) * N + ((u + du + N) % N)]!);
      }
      ring.sort((x, y) => x - y);
      if (val < MOIRE.prominence * ring[ring.length >> 1]!) continue;
      const ratio = val / m;
      if (ratio > peak) { peak = ratio; freq = rad / N; }
    }
  }
  return { peak, freq, patches };
}

/** R − G (c = 0) or B − G (c = 2) as a float image (the chroma channels of the moiré test). */
function chromaOf(img: RgbImage, c: 0 | 2): GreyImage {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const d = img.data;
  for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = d[j + c]! - d[j + 1]!;
  return { data: out, width: img.width, height: img.height };
}

export function moireSignal(img: RgbImage, face: FaceGeometry): SignalResult {
  const region = innerFace(face.box);
  const c = clipBox(region, img.width, img.height);
  if (!c || c.width < MOIRE.patch || c.height < MOIRE.patch) {
    return { signal: 'screen_moire', applies: false, score: 1, reason: `face area under ${MOIRE.patch} px: too small for a frequency analysis` };
  }
  const grey = isGreyscale(img, region);
  // work on the face area only
  const crop = cropRgb(img, c);
  const local: Box = { x: 0, y: 0, width: c.width, height: c.height };
  const lum = spectralPeak(greyOf(crop), local, MOIRE.patch, true);
  let chroma = { peak: 0, freq: 0, patches: 0 };
  if (!grey) {
    const rg = spectralPeak(chromaOf(crop, 0), local, MOIRE.patch, false, MOIRE.maxChromaFreq);
    const bg = spectralPeak(chromaOf(crop, 2), local, MOIRE.patch, false, MOIRE.maxChromaFreq);
    chroma = rg.peak >= bg.peak ? rg : bg;
  }
  const peak = Math.max(lum.peak, chroma.peak);
  const score = clamp01(1 - 0.95 * ramp(peak, MOIRE.clean, MOIRE.moire));
  const r: SignalResult = {
    signal: 'screen_moire', applies: true, score: Math.round(score * 1000) / 1000,
    reason: score < 0.5 ? 'periodic pattern on the face (screen pixels or print halftone)' : 'no periodic pattern on the face',
    details: { lumPeak: round(lum.peak), lumFreq: round(lum.freq, 3), chromaPeak: grey ? 'n/a' : round(chroma.peak), chromaFreq: grey ? 'n/a' : round(chroma.freq, 3), patches: lum.patches, greyscale: grey },
  };
  if (score < 0.5) r.warning = livenessWarning('SCREEN_MOIRE', score < 0.2 ? 'error' : 'warning', { peak: round(peak) });
  return r;
}

export const GLARE = {
  /** Share of the face ellipse that is clipped white in one blob: ramp from `clean` to `glare`. */
  clean: 0.04,
  glare: 0.2,
} as const;

/**
 * Only the ellipse inscribed in the face box counts: a bright window or lamp behind the head is
 * clipped white in many live selfies and lies inside any box drawn around the face, but not over the skin.
 */
export function glareSignal(img: RgbImage, face: FaceGeometry): SignalResult {
  const b = face.box;
  const ax = b.width / 2, ay = b.height / 2, cx = b.x + ax, cy = b.y + ay;
  const r = clipBox(b, img.width, img.height);
  if (!r) return { signal: 'screen_glare', applies: false, score: 1, reason: 'no face area' };
  const w = r.width, h = r.height;
  // 1: clipped and inside the ellipse; 2: such a pixel already counted in a blob
  const mask = new Uint8Array(w * h);
  let clipped = 0, inside = 0;
  for (let y = 0; y < h; y++) {
    const dy = (r.y + y + 0.5 - cy) / ay;
    for (let x = 0; x < w; x++) {
      const dx = (r.x + x + 0.5 - cx) / ax;
      if (dx * dx + dy * dy > 1) continue;
      inside++;
      const o = ((r.y + y) * img.width + r.x + x) * 3;
      if (img.data[o]! >= 248 && img.data[o + 1]! >= 248 && img.data[o + 2]! >= 248) { mask[y * w + x] = 1; clipped++; }
    }
  }
  // largest 4-connected blob
  let largest = 0;
  const stack: number[] = [];
  for (let i = 0; i < w * h; i++) {
    if (mask[i] !== 1) continue;
    let size = 0;
    mask[i] = 2; stack.push(i);
    while (stack.length) {
      const j = stack.pop()!;
      size++;
      const x = j % w, y = (j - x) / w;
      if (x > 0 && mask[j - 1] === 1) { mask[j - 1] = 2; stack.push(j - 1); }
      if (x < w - 1 && mask[j + 1] === 1) { mask[j + 1] = 2; stack.push(j + 1); }
      if (y > 0 && mask[j - w] === 1) { mask[j - w] = 2; stack.push(j - w); }
      if (y < h - 1 && mask[j + w] === 1) { mask[j + w] = 2; stack.push(j + w); }
    }
    if (size > largest) largest = size;
  }
  const frac = largest / Math.max(1, inside);
  const score = clamp01(1 - 0.8 * ramp(frac, GLARE.clean, GLARE.glare));
  const res: SignalResult = {
    signal: 'screen_glare', applies: true, score: Math.round(score * 1000) / 1000,
    reason: score < 0.6 ? 'a large clipped highlight over the face' : 'no large highlight over the face',
    details: { clipped: round(clipped / Math.max(1, inside), 3), largestBlob: round(frac, 3) },
  };
  if (score < 0.6) res.warning = livenessWarning('SCREEN_GLARE', 'warning', { largestBlob: round(frac, 3) });
  return res;
}

export const PRINT = {
  /** Dark end of the face (2nd percentile luminance over the 98th): from `deep` (live) to `flat` (ink on paper, no deep blacks). */
  deep: 0.4,
  flat: 0.55,
  /** Median skin saturation: from `vivid` (live) to `dull`. */
  vivid: 0.2,
  dull: 0.1,
  /** Largest score reduction. */
  weight: 0.6,
} as const;

export function printSignal(img: RgbImage, face: FaceGeometry): SignalResult {
  const region = innerFace(face.box);
  const r = clipBox(region, img.width, img.height);
  if (!r || r.width < 16 || r.height < 16) return { signal: 'print_texture', applies: false, score: 1, reason: 'face area too small' };
  // histograms (0..255 luminance, 0..100 saturation %) instead of sorting every pixel
  const lh = new Uint32Array(256), sh = new Uint32Array(101);
  let nl = 0, ns = 0;
  const grey = isGreyscale(img, region);
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const o = (y * img.width + x) * 3;
      const R = img.data[o]!, G = img.data[o + 1]!, B = img.data[o + 2]!;
      lh[Math.round(0.299 * R + 0.587 * G + 0.114 * B)]!++; nl++;
      const mx = Math.max(R, G, B), mn = Math.min(R, G, B);
      if (mx > 40) { sh[Math.round((100 * (mx - mn)) / mx)]!++; ns++; }
    }
  }
  const histPct = (h: Uint32Array, n: number, p: number): number => {
    const target = (p / 100) * (n - 1);
    let acc = 0;
    for (let i = 0; i < h.length; i++) { acc += h[i]!; if (acc > target) return i; }
    return h.length - 1;
  };
  const lo = histPct(lh, nl, 2), hi = histPct(lh, nl, 98);
  const darkRatio = hi > 0 ? lo / hi : 1;
  const flatContrast = ramp(darkRatio, PRINT.deep, PRINT.flat);
  let sat = 0, dull = 1;
  if (!grey && ns > 50) {
    sat = histPct(sh, ns, 50) / 100;
    dull = 1 - ramp(sat, PRINT.dull, PRINT.vivid);
  }
  // compressed contrast is the evidence; dull colour (when there is colour) strengthens it
  const evidence = flatContrast * (grey ? 1 : 0.5 + 0.5 * dull);
  const score = clamp01(1 - PRINT.weight * evidence);
  const res: SignalResult = {
    signal: 'print_texture', applies: true, score: Math.round(score * 1000) / 1000,
    reason: score < 0.6 ? 'compressed contrast and colour of a printed photo' : 'contrast and colour range of a live face',
    details: { darkRatio: round(darkRatio, 3), saturation: grey ? 'n/a (greyscale)' : round(sat, 3), greyscale: grey },
  };
  if (score < 0.6) res.warning = livenessWarning('PRINT_LOOK', 'warning', { darkRatio: round(darkRatio, 3) });
  return res;
}

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
