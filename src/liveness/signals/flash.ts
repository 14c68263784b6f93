/**
 * FLASHING: the page fills the screen with a server-chosen random colour sequence while recording.
 *
 * - flash_response: the mean colour of the face follows the sequence, channel by channel, with a
 *   camera/display lag within the allowed range: per-channel linear fit of the face colour on the
 *   shown colour at the best lag (R²), compared with the same fit for random re-orderings of the
 *   sequence (a recording of another sequence, or no response, scores like a random order).
 * - flash_shading: the screen is a light in front of the face. Per patch of the face, the increase
 *   under bright colours over the black lead-in, divided by the lead-in brightness (albedo and
 *   room light cancel), is constant (or a linear gradient) on a flat print, and varies with the
 *   surface normal (nose, cheek curvature) on a 3D face.
 */
import { flashColourAt, type FlashingChallenge } from '../challenge.ts';
import { leastSquares } from '../geometry.ts';
import { clamp01, clipBox, faceCentre, faceInner, greyOf, median, ramp } from '../image.ts';
import { seededRng, shuffle } from '../rng.ts';
import { buildPyramid, trackLK } from '../track.ts';
import type { Box, FaceGeometry, Frame, GreyImage, Point, SignalResult } from '../types.ts';
import { livenessWarning } from '../warnings.ts';

export const FLASH = {
  /** Lags searched beyond the challenge's maxLagMs (to tell "late" from "not following"). */
  extraLagMs: 800,
  lagStepMs: 10,
  /** Frames within this of a colour change (after the lag) are left out of the fit. */
  edgeGuardMs: 50,
  /** R² of the fit: from `none` to `follows`. */
  r2None: 0.3,
  r2Follows: 0.7,
  /** Margin of the true sequence's R² over the best of the shuffled ones. */
  marginNone: 0.02,
  marginFollows: 0.1,
  shuffles: 24,
  /** Relative response (gain over face brightness): below `weak` the face barely reflects the screen. */
  weak: 0.05,
  strong: 0.1,
  /** Shading: residual of a linear fit of the per-patch relative response, over its mean. */
  flatShading: 0.05,
  curvedShading: 0.1,
  grid: 6,
} as const;

interface FaceColour { t: number; rgb: [number, number, number] }

/** Per-frame translation of the face relative to the middle frame (gain-normalised LK on face points). */
function faceOffsets(frames: readonly Frame[], box: Box): Point[] {
  const mid = Math.floor(frames.length / 2);
  const norm = (g: GreyImage): GreyImage => {
    const r = clipBox(faceCentre(box), g.width, g.height);
    let s = 0, n = 0;
    if (r) for (let y = r.y; y < r.y + r.height; y++) for (let x = r.x; x < r.x + r.width; x++) { s += g.data[y * g.width + x]!; n++; }
    const k = n ? 128 / Math.max(1, s / n) : 1;
    const d = new Float32Array(g.data.length);
    for (let i = 0; i < d.length; i++) d[i] = g.data[i]! * k;
    return { data: d, width: g.width, height: g.height };
  };
  const ref = buildPyramid(norm(greyOf(frames[mid]!.image)), 2);
  const pts: Point[] = [];
  const ib = faceCentre(box);
  for (let j = 0; j < 5; j++) for (let i = 0; i < 5; i++) pts.push({ x: ib.x + ((i + 0.5) / 5) * ib.width, y: ib.y + ((j + 0.5) / 5) * ib.height });
  return frames.map((f, k) => {
    if (k === mid) return { x: 0, y: 0 };
    const tr = trackLK(ref, buildPyramid(norm(greyOf(f.image)), 2), pts);
    const dx = median(tr.pts.map((p, i) => p.x - pts[i]!.x)), dy = median(tr.pts.map((p, i) => p.y - pts[i]!.y));
    return { x: Number.isFinite(dx) ? dx : 0, y: Number.isFinite(dy) ? dy : 0 };
  });
}

function meanColour(f: Frame, b: Box, off: Point): [number, number, number] {
  const r = clipBox({ ...b, x: b.x + off.x, y: b.y + off.y }, f.image.width, f.image.height);
  if (!r) return [0, 0, 0];
  let R = 0, G = 0, B = 0, n = 0;
  for (let y = r.y; y < r.y + r.height; y += 2) for (let x = r.x; x < r.x + r.width; x += 2) {
    const o = (y * f.image.width + x) * 3;
    R += f.image.data[o]!; G += f.image.data[o + 1]!; B += f.image.data[o + 2]!; n++;
  }
  return [R / n, G / n, B / n];
}

function nearEdge(ch: FlashingChallenge, t: number): boolean {
  let edge = ch.leadInMs;
  if (Math.abs(t - edge) < FLASH.edgeGuardMs) return true;
  for (const s of ch.steps) { edge += s.ms; if (Math.abs(t - edge) < FLASH.edgeGuardMs) return true; }
  return false;
}

/** Best per-channel linear fit of the face colour on the shown colour over lags. */
function fitSequence(ch: FlashingChallenge, cols: readonly FaceColour[], lags: readonly number[]): { r2: number; lag: number; gain: [number, number, number]; base: [number, number, number] } {
  let best = { r2: -Infinity, lag: 0, gain: [0, 0, 0] as [number, number, number], base: [0, 0, 0] as [number, number, number] };
  for (const lag of lags) {
    const use = cols.filter((c) => !nearEdge(ch, c.t - lag) && c.t - lag >= 0);
    if (use.length < 8) continue;
    let ssr = 0, sst = 0;
    const gain: [number, number, number] = [0, 0, 0], base: [number, number, number] = [0, 0, 0];
    for (let k = 0; k < 3; k++) {
      const xs = use.map((c) => flashColourAt(ch, c.t - lag)[k]!), ys = use.map((c) => c.rgb[k]!);
      const mx = xs.reduce((a, b) => a + b, 0) / xs.length, my = ys.reduce((a, b) => a + b, 0) / ys.length;
      let sxy = 0, sxx = 0, syy = 0;
      for (let i = 0; i < xs.length; i++) { sxy += (xs[i]! - mx) * (ys[i]! - my); sxx += (xs[i]! - mx) ** 2; syy += (ys[i]! - my) ** 2; }
      const g = sxx > 0 ? sxy / sxx : 0;
      gain[k] = g; base[k] = my - g * mx;
      sst += syy;
      ssr += syy - (sxx > 0 ? (sxy * sxy) / sxx : 0);
    }
    const r2 = sst > 0 ? 1 - ssr / sst : 0;
    // a negative gain (darker under light) is not a reflection
    const r2pos = gain.every((g) => g > 0) ? r2 : Math.min(r2, 0);
    if (r2pos > best.r2) best = { r2: r2pos, lag, gain, base };
  }
  return best;
}

export function flashSignals(ch: FlashingChallenge, frames: readonly Frame[], face: FaceGeometry): SignalResult[] {
  const total = ch.leadInMs + ch.steps.reduce((s, x) => s + x.ms, 0);
  const fr = frames.filter((f) => f.t >= 0 && f.t <= total + ch.maxLagMs + FLASH.extraLagMs);
  if (fr.length < 10) {
    const w = livenessWarning('FLASH_SEQUENCE_MISMATCH', 'error', { reason: 'too few frames', frames: fr.length });
    return [{ signal: 'flash_response', applies: true, score: 0.05, reason: `${fr.length} frames cover the sequence (10 or more needed)`, warning: w }];
  }
  const offs = faceOffsets(fr, face.box);
  const ib = faceCentre(face.box);
  const cols: FaceColour[] = fr.map((f, i) => ({ t: f.t, rgb: meanColour(f, ib, offs[i]!) }));
  const lags: number[] = [];
  for (let l = -30; l <= ch.maxLagMs + FLASH.extraLagMs; l += FLASH.lagStepMs) lags.push(l);
  const fit = fitSequence(ch, cols, lags);
  // the same timing with the colours in random orders: what "not following this sequence" scores
  const rng = seededRng(fr.length * 7 + Math.round(fr[0]!.t));
  let nullBest = 0;
  for (let i = 0; i < FLASH.shuffles; i++) {
    const perm = shuffle(rng, ch.steps);
    const alt: FlashingChallenge = { ...ch, steps: perm.map((s, k) => ({ ...s, ms: ch.steps[k]!.ms })) };
    if (alt.steps.every((s, k) => s.colour === ch.steps[k]!.colour)) continue;
    nullBest = Math.max(nullBest, fitSequence(alt, cols, lags.filter((_, k) => k % 3 === 0)).r2);
  }
  const brightness = cols.reduce((s, c) => s + (c.rgb[0] + c.rgb[1] + c.rgb[2]) / 3, 0) / cols.length;
  const amplitude = (fit.gain[0] + fit.gain[1] + fit.gain[2]) / 3 / Math.max(1, brightness);
  const late = fit.lag > ch.maxLagMs;
  const follows = ramp(fit.r2, FLASH.r2None, FLASH.r2Follows) * ramp(fit.r2 - nullBest, FLASH.marginNone, FLASH.marginFollows) * ramp(amplitude, FLASH.weak, FLASH.strong);
  const score = late ? Math.min(0.05, follows) : clamp01(0.03 + 0.97 * follows);
  const details = { r2: round(fit.r2, 3), shuffledR2: round(nullBest, 3), lagMs: fit.lag, amplitude: round(amplitude, 3), frames: fr.length };
  const response: SignalResult = {
    signal: 'flash_response', applies: true, score: round(score, 3), details,
    reason: late ? `the face follows the colours ${fit.lag} ms late (limit ${ch.maxLagMs} ms)` : score >= 0.5 ? 'the face reflects the colour sequence in time' : 'the face does not reflect the colour sequence',
  };
  if (score < 0.5) response.warning = livenessWarning(late ? 'CHALLENGE_TIMEOUT' : 'FLASH_SEQUENCE_MISMATCH', 'error', details);
  const out: SignalResult[] = [response];
  if (score >= 0.5) out.push(shadingSignal(ch, fr, offs, face, fit.lag));
  return out;
}

function shadingSignal(ch: FlashingChallenge, frames: readonly Frame[], offs: readonly Point[], face: FaceGeometry, lag: number): SignalResult {
  // per colour channel: frames where the screen lights that channel, and the black lead-in
  const lit: number[][] = [[], [], []], dark: number[] = [];
  frames.forEach((f, i) => {
    const t = f.t - lag;
    if (nearEdge(ch, t) || t < 0) return;
    if (t < ch.leadInMs) { dark.push(i); return; }
    const c = flashColourAt(ch, t);
    for (let k = 0; k < 3; k++) if (c[k]! > 0.9) lit[k]!.push(i);
  });
  if (dark.length < 2 || lit.every((l) => l.length < 2)) return { signal: 'flash_shading', applies: false, score: 1, reason: 'not enough frames under the colours and under the black lead-in' };
  const box = face.box;
  const ib = faceInner(box);
  const n = FLASH.grid;
  // per patch and channel: mean value and share of clipped pixels over a set of frames
  const acc = (idx: readonly number[]) => {
    const mean = new Float64Array(n * n * 3), clip = new Float64Array(n * n * 3);
    for (const i of idx) {
      const f = frames[i]!.image, o = offs[i]!;
      for (let py = 0; py < n; py++) for (let px = 0; px < n; px++) {
        const r = clipBox({ x: ib.x + o.x + (px / n) * ib.width, y: ib.y + o.y + (py / n) * ib.height, width: ib.width / n, height: ib.height / n }, f.width, f.height);
        if (!r) continue;
        const s = [0, 0, 0], k = [0, 0, 0];
        let c = 0;
        for (let y = r.y; y < r.y + r.height; y++) for (let x = r.x; x < r.x + r.width; x++) {
          const q = (y * f.width + x) * 3;
          for (let ch3 = 0; ch3 < 3; ch3++) { const v = f.data[q + ch3]!; s[ch3]! += v; if (v >= 250) k[ch3]!++; }
          c++;
        }
        for (let ch3 = 0; ch3 < 3; ch3++) {
          mean[(py * n + px) * 3 + ch3]! += s[ch3]! / Math.max(1, c) / idx.length;
          clip[(py * n + px) * 3 + ch3]! += k[ch3]! / Math.max(1, c) / idx.length;
        }
      }
    }
    return { mean, clip };
  };
  const D = acc(dark);
  // relative response per patch and channel, each channel normalised by its mean over the face
  const rho: Array<number[]> = Array.from({ length: n * n }, () => []);
  let channels = 0;
  for (let k = 0; k < 3; k++) {
    if (lit[k]!.length < 2) continue;
    const B = acc(lit[k]!);
    const vals: Array<[number, number]> = [];
    for (let p = 0; p < n * n; p++) {
      const d = D.mean[p * 3 + k]!, b = B.mean[p * 3 + k]!;
      if (d < 12 || B.clip[p * 3 + k]! > 0.02 || D.clip[p * 3 + k]! > 0.02) continue;
      vals.push([p, (b - d) / d]);
    }
    if (vals.length < 12) continue;
    const m = vals.reduce((a, v) => a + v[1], 0) / vals.length;
    if (m <= 0.02) continue;
    for (const [p, v] of vals) rho[p]!.push(v / m);
    channels++;
  }
  const rows: number[][] = [], ys: number[] = [];
  for (let p = 0; p < n * n; p++) {
    if (!rho[p]!.length) continue;
    rows.push([1, (p % n) / n - 0.5, Math.floor(p / n) / n - 0.5]);
    ys.push(rho[p]!.reduce((a, b) => a + b, 0) / rho[p]!.length);
  }
  if (rows.length < 12 || channels === 0) {
    return { signal: 'flash_shading', applies: true, score: 0.5, reason: 'the face was too dark or clipped to measure its shading under the flash', details: { patches: rows.length, channels } };
  }
  const c = leastSquares(rows, ys)!;
  const res = ys.map((y, i) => y - (c[0]! + c[1]! * rows[i]![1]! + c[2]! * rows[i]![2]!));
  const curvature = Math.sqrt(res.reduce((a, b) => a + b * b, 0) / res.length);
  const score = clamp01(0.08 + 0.92 * ramp(curvature, FLASH.flatShading, FLASH.curvedShading));
  const r: SignalResult = {
    signal: 'flash_shading', applies: true, score: round(score, 3),
    reason: score >= 0.5 ? 'the reflected light varies across the face like on a 3D surface' : 'the reflected light is spread like on a flat surface',
    details: { curvature: round(curvature, 3), patches: rows.length, channels, darkFrames: dark.length },
  };
  if (score < 0.5) r.warning = livenessWarning('FLAT_SHADING', score < 0.2 ? 'error' : 'warning', { curvature: round(curvature, 3) });
  return r;
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;
