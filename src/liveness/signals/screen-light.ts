/**
 * screen_light (PASSIVE, workflows with liveness.screen_light, the default): during the PASSIVE burst
 * the capture page switches the screen around the viewfinder between white and dark grey in a
 * server-chosen pattern (one value per burst frame, changes at most every 2 frames). A live face in
 * front of the screen reflects its light: the face's brightness follows the pattern with a small
 * lag. A phone or monitor showing a replay is emissive: only its glass reflects a few percent of the
 * light, so the replayed face barely follows it.
 *
 * Per burst frame, the mean luminance of the inner face box is regressed on the pattern at lags
 * 0–2 frames (half-frame steps: the screen's and camera's lag is not a whole frame), with a
 * quadratic trend (slow drift: exposure, the replayed video's own brightness) as a nuisance term. Evidence:
 * the partial R² of the pattern, its margin over unrelated patterns of the same kind, and the
 * relative amplitude (brightness change from dark grey to white over the face's brightness).
 */
import { binnedGreyOf, clamp01, clipBox, faceCentre, ramp } from '../image.ts';
import { int, seededRng, type Rng } from '../rng.ts';
import type { Box, FaceGeometry, Frame, LivenessWarning, Point } from '../types.ts';
import { livenessWarning } from '../warnings.ts';

/** The dark grey's light relative to white (rgb 64 ≈ 0.05 in linear light): the pattern's 0. */
const SCREEN_DARK = 0.05;

export const SCREEN_LIGHT_SIGNAL = {
  /** Lags searched, in burst frames. */
  lags: [0, 0.5, 1, 1.5, 2],
  /** The page's background before the burst (white): what a lag shifts in before frame 0. */
  rest: 1,
  /** Partial R² of the pattern: from `none` to `follows`. */
  r2None: 0.4,
  r2Follows: 0.7,
  /** Margin over the best unrelated pattern. */
  marginNone: 0,
  marginFollows: 0.15,
  shuffles: 24,
  /** Alternative patterns correlated with the true one beyond this (at any shift of ±2 frames) are not "unrelated". */
  maxNullCorr: 0.5,
  /** Relative amplitude (white vs dark grey): below `weak` a glass reflection, above `strong` a face lit by the screen. */
  weak: 0.012,
  strong: 0.025,
} as const;

export interface ScreenLightResult {
  signal: 'screen_light';
  applies: boolean;
  /** 0..1, 1 = live-looking. */
  score: number;
  reason: string;
  details: { r2: number; shuffledR2: number; lag: number; amplitude: number; frames: number };
  warning?: LivenessWarning;
}

/**
 * A random pattern of `n` frames for the page: runs of 2–4 frames (the screen changes at most every
 * 2 frames, 160 ms at 80 ms), each level on ≥ 4 frames, ≥ 3 changes.
 */
export function randomScreenPattern(rng: Rng, n = 12): number[] {
  for (;;) {
    const p: number[] = [];
    let v = int(rng, 0, 1);
    while (p.length < n) {
      const len = int(rng, 2, 4);
      for (let k = 0; k < len && p.length < n; k++) p.push(v);
      v = 1 - v;
    }
    // a final run of one frame is merged into the previous one (no change in the last 160 ms)
    if (p[n - 1] !== p[n - 2]) p[n - 1] = p[n - 2]!;
    let changes = 0;
    for (let i = 1; i < n; i++) if (p[i] !== p[i - 1]) changes++;
    const on = p.reduce((a, b) => a + b, 0);
    // ≥ 3 changes: a single bump of light is too easily matched by a replay's own brightness drift
    if (changes >= 3 && on >= 4 && n - on >= 4) return p;
  }
}

/** The pattern as the frames see it at a lag (frames; fractional lags interpolate). */
export function laggedPattern(pattern: readonly number[], lag: number): number[] {
  const at = (j: number): number => (j < 0 ? SCREEN_LIGHT_SIGNAL.rest : pattern[Math.min(pattern.length - 1, j)]!);
  const lo = Math.floor(lag), f = lag - lo;
  return pattern.map((_, j) => (1 - f) * at(j - lo) + f * at(j - lo - 1));
}

function meanLuma(f: Frame, b: Box): number {
  const r = clipBox(b, f.image.width, f.image.height);
  if (!r) return 0;
  // the image module's grey of the frame: computed once, shared with the other burst signals
  const g = binnedGreyOf(f.image, 1), w = g.width;
  let s = 0;
  for (let y = r.y; y < r.y + r.height; y++) for (let x = r.x; x < r.x + r.width; x++) s += g.data[y * w + x]!;
  return r.width * r.height ? s / (r.width * r.height) : 0;
}

/**
 * Residual of v after a least-squares fit of [1, j, j²]: slow drift (exposure, the replayed video's
 * own brightness, a hand-held device turning) is a smooth curve over the ~1 s burst; the pattern
 * changes at least three times and is not.
 */
function detrend(v: readonly number[]): number[] {
  const n = v.length, mj = (n - 1) / 2;
  // orthogonal basis over j = 0..n-1: 1, t, t² − mean(t²) with t = j − mj (t and t² − c are orthogonal)
  const t = v.map((_, j) => j - mj);
  const c2 = t.reduce((a, x) => a + x * x, 0) / n;
  const q = t.map((x) => x * x - c2);
  const mv = v.reduce((a, b) => a + b, 0) / n;
  const proj = (b: readonly number[]) => { let num = 0, den = 0; for (let j = 0; j < n; j++) { num += b[j]! * (v[j]! - mv); den += b[j]! * b[j]!; } return den > 0 ? num / den : 0; };
  const a1 = proj(t), a2 = proj(q);
  return v.map((x, j) => x - mv - a1 * t[j]! - a2 * q[j]!);
}

/** Best fit of the luminance on the pattern over the lags: partial R² (given the trend), gain, lag. */
function fit(pattern: readonly number[], ry: readonly number[], lags: readonly number[]): { r2: number; gain: number; lag: number } {
  let best = { r2: -Infinity, gain: 0, lag: 0 };
  const syy = ry.reduce((a, b) => a + b * b, 0);
  for (const lag of lags) {
    const rx = detrend(laggedPattern(pattern, lag));
    let sxy = 0, sxx = 0;
    for (let j = 0; j < rx.length; j++) { sxy += rx[j]! * ry[j]!; sxx += rx[j]! * rx[j]!; }
    if (sxx < 1e-6 || syy <= 0) continue;
    const gain = sxy / sxx;
    // darker under the white screen is not a reflection
    const r2 = gain > 0 ? (sxy * sxy) / (sxx * syy) : 0;
    if (r2 > best.r2) best = { r2, gain, lag };
  }
  return best.r2 === -Infinity ? { r2: 0, gain: 0, lag: 0 } : best;
}

function corr(a: readonly number[], b: readonly number[]): number {
  const n = a.length, ma = a.reduce((s, v) => s + v, 0) / n, mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { sab += (a[i]! - ma) * (b[i]! - mb); saa += (a[i]! - ma) ** 2; sbb += (b[i]! - mb) ** 2; }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/**
 * @param burst the burst frames (one per pattern value, in order)
 * @param face the face in the burst (burst pixels; the capture frame's box)
 * @param pattern the pattern the page showed (0 dark grey, 1 white per frame)
 * @param offsets the face's shift in each frame (light-shading.ts faceRegistration); none: a fixed box
 */
export function screenLightSignal(burst: readonly Frame[], face: FaceGeometry, pattern: readonly number[], offsets?: readonly Point[]): ScreenLightResult {
  const n = Math.min(burst.length, pattern.length);
  const pat = pattern.slice(0, n);
  const details = { r2: 0, shuffledR2: 0, lag: 0, amplitude: 0, frames: n };
  if (n < 8 || pat.every((v) => v === pat[0])) return { signal: 'screen_light', applies: false, score: 1, reason: 'too few frames or no change of the screen light', details };
  const ib = faceCentre(face.box);
  // the face box follows the face (offsets): content moving through a fixed box changes its brightness
  const y = burst.slice(0, n).map((f, i) => { const o = offsets?.[i]; return meanLuma(f, o ? { ...ib, x: ib.x + o.x, y: ib.y + o.y } : ib); });
  const ry = detrend(y);
  const lags = SCREEN_LIGHT_SIGNAL.lags.filter((l) => l < n - 4);
  const best = fit(pat, ry, lags);
  // unrelated patterns of the same kind (not a shifted copy of the shown one)
  const rng = seededRng(n * 7919 + pat.reduce((a, v, i) => a + v * (1 << i), 0));
  const shifts = [-2, -1, 0, 1, 2].map((s) => pat.map((_, j) => { const k = j - s; return k < 0 ? SCREEN_LIGHT_SIGNAL.rest : pat[Math.min(n - 1, k)]!; }));
  let nullBest = 0, used = 0;
  for (let tries = 0; used < SCREEN_LIGHT_SIGNAL.shuffles && tries < 2000; tries++) {
    const alt = randomScreenPattern(rng, n);
    if (shifts.some((s) => Math.abs(corr(s, alt)) > SCREEN_LIGHT_SIGNAL.maxNullCorr)) continue;
    used++;
    nullBest = Math.max(nullBest, fit(alt, ry, lags).r2);
  }
  const brightness = y.reduce((a, b) => a + b, 0) / n;
  // The fit's gain can be inflated by the face's own brightness changes that happen to line up with
  // the pattern (a replayed video); the plain difference between frames under white and under dark
  // grey (after the trend) cannot: the smaller of the two is the light's amplitude.
  const level = laggedPattern(pat, best.lag);
  const litY = ry.filter((_, j) => level[j]! >= 0.9), darkY = ry.filter((_, j) => level[j]! <= 0.1);
  const contrast = litY.length && darkY.length ? litY.reduce((a, b) => a + b, 0) / litY.length - darkY.reduce((a, b) => a + b, 0) / darkY.length : best.gain;
  const amplitude = Math.min(best.gain, contrast / (1 - SCREEN_DARK)) / Math.max(1, brightness);
  const margin = best.r2 - nullBest;
  const C = SCREEN_LIGHT_SIGNAL;
  const follows = ramp(best.r2, C.r2None, C.r2Follows) * ramp(margin, C.marginNone, C.marginFollows) * ramp(amplitude, C.weak, C.strong);
  const score = clamp01(0.03 + 0.97 * follows);
  const r = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;
  const out: ScreenLightResult = {
    signal: 'screen_light', applies: true, score: r(score),
    reason: score >= 0.5 ? "the face's brightness follows the screen's light" : ramp(amplitude, C.weak, C.strong) < 0.5 && best.r2 >= C.r2None ? 'the face follows the screen light only as a faint reflection' : "the face's brightness does not follow the screen's light",
    details: { r2: r(best.r2), shuffledR2: r(nullBest), lag: best.lag, amplitude: r(amplitude, 4), frames: n },
  };
  if (score < 0.5) out.warning = livenessWarning('LIGHT_MISMATCH', score < 0.2 ? 'error' : 'warning', { r2: out.details.r2, amplitude: out.details.amplitude });
  return out;
}
