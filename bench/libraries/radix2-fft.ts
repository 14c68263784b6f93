/** The hand-written radix-2 FFT that src/liveness/fft.ts used before fft.js (issue 16), kept here so bench/libraries/fft.ts can compare. */

const twiddles = new Map<number, { cos: Float64Array; sin: Float64Array; rev: Uint32Array }>();

function plan(n: number) {
  let p = twiddles.get(n);
  if (p) return p;
  if (n & (n - 1)) throw new Error(`FFT size ${n} is not a power of two`);
  const cos = new Float64Array(n / 2);
  const sin = new Float64Array(n / 2);
  for (let i = 0; i < n / 2; i++) {
    cos[i] = Math.cos((-2 * Math.PI * i) / n);
    sin[i] = Math.sin((-2 * Math.PI * i) / n);
  }
  const rev = new Uint32Array(n);
  const bits = Math.log2(n);
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  p = { cos, sin, rev };
  twiddles.set(n, p);
  return p;
}

/** Forward FFT of (re, im) with stride 1, in place. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  const { cos, sin, rev } = plan(n);
  for (let i = 0; i < n; i++) {
    const j = rev[i]!;
    if (j > i) {
      let t = re[i]!; re[i] = re[j]!; re[j] = t;
      t = im[i]!; im[i] = im[j]!; im[j] = t;
    }
  }
  for (let size = 2; size <= n; size <<= 1) {
    const half = size >> 1;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let k = 0; k < half; k++) {
        const c = cos[k * step]!, s = sin[k * step]!;
        const a = start + k, b = a + half;
        const tr = re[b]! * c - im[b]! * s;
        const ti = re[b]! * s + im[b]! * c;
        re[b] = re[a]! - tr; im[b] = im[a]! - ti;
        re[a] = re[a]! + tr; im[a] = im[a]! + ti;
      }
    }
  }
}

/**
 * Power spectrum |F|² of an n×n real patch (row-major), after removing the mean and applying a
 * 2D Hann window. Result is row-major n×n with DC at (0, 0) (not shifted).
 */
export function powerSpectrum2d(patch: Float64Array, n: number): Float64Array {
  const p = new Float64Array(n * n);
  accumulatePowerSpectrum2d(patch, n, p);
  return p;
}

const work = new Map<number, { re: Float64Array; im: Float64Array; w: Float64Array; rr: Float64Array; ri: Float64Array }>();

/** acc += powerSpectrum2d(patch, n), without allocating (buffers and window kept per size). */
export function accumulatePowerSpectrum2d(patch: Float64Array, n: number, acc: Float64Array): void {
  let b = work.get(n);
  if (!b) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / n);
    b = { re: new Float64Array(n * n), im: new Float64Array(n * n), w, rr: new Float64Array(n), ri: new Float64Array(n) };
    work.set(n, b);
  }
  const { re, im, w, rr, ri } = b;
  im.fill(0);
  let mean = 0;
  for (let i = 0; i < n * n; i++) mean += patch[i]!;
  mean /= n * n;
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) re[y * n + x] = (patch[y * n + x]! - mean) * w[x]! * w[y]!;
  // rows in place (contiguous), then columns through a line buffer
  for (let y = 0; y < n; y++) fft(re.subarray(y * n, y * n + n), im.subarray(y * n, y * n + n));
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) { rr[y] = re[y * n + x]!; ri[y] = im[y * n + x]!; }
    fft(rr, ri);
    for (let y = 0; y < n; y++) { re[y * n + x] = rr[y]!; im[y * n + x] = ri[y]!; }
  }
  for (let i = 0; i < n * n; i++) acc[i]! += re[i]! * re[i]! + im[i]! * im[i]!;
}
