/**
 * screen_light (PASSIVE, workflows with liveness.screen_light, the default): during the PASSIVE burst
 * the capture page switches the screen around the viewfinder between white and dark grey in a
 * server-chosen pattern (one value per burst frame, 18 frames ending on 2 white ones, at most 6 changes a second). A live face in
 * front of the screen reflects its light: the face's brightness follows the pattern with a small
 * lag. A phone or monitor showing a replay is emissive: only its glass reflects a few percent of the
 * light, so the replayed face barely follows it.
 *
 * Per burst frame, the mean luminance of the inner face box is regressed on the pattern at lags
 * 0–2 frames (half-frame steps: the screen's and camera's lag is not a whole frame), with a
 * quadratic trend (slow drift: exposure, the replayed video's own brightness) as a nuisance term. Evidence:
 * the partial R² of the pattern, its rank among all patterns the server could have issued (the
 * chance bound: docs/liveness.md, "Chance acceptance of a recording"), and the relative amplitude
 * (brightness change from dark grey to white over the face's brightness).
 */
import { binnedGreyOf, clamp01, clipBox, faceCentre, ramp } from '../image.ts';
import { pick, type Rng } from '../rng.ts';
import type { Box, FaceGeometry, Frame, LivenessWarning, Point } from '../types.ts';
import { livenessWarning } from '../warnings.ts';

/** Chance acceptance allowed per session (issue 12), and the challenges a session may issue. */
export const SESSION_CHANCE = 1e-3;
export const CHALLENGES_PER_SESSION = 3;

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
  /**
   * Chance acceptance (docs/liveness.md, "Chance acceptance of a recording"): the issued pattern is
   * ranked among every pattern the server could have issued by how well each fits the face's
   * brightness. A recording that does not respond to the screen is independent of the issued
   * pattern, so the issued one lands in the top fraction q with probability ≤ q, whatever the
   * recording. Only the top ⌊chance · patterns⌋ ranks get credit (screenLightMaxRank); below them
   * the signal gives none at all (score 0.03: the session is declined). Within them the credit is
   * full: a ramp over the rank would not tighten the bound (any credit counts as an escape) and
   * would cost genuine faces. `chance` is per challenge: a session issues up to
   * CHALLENGES_PER_SESSION of them (src/liveness/challenge.ts), each another draw a client can hold
   * against a recording, so the session's 1 in 1,000 is split between them.
   */
  chance: SESSION_CHANCE / CHALLENGES_PER_SESSION,
  /** Relative amplitude (white vs dark grey): below `weak` a glass reflection, above `strong` a face lit by the screen. */
  weak: 0.012,
  strong: 0.025,
} as const;

/**
 * The patterns the server issues (createChallenge('PASSIVE')): 18 frames 80 ms apart (1.44 s), the
 * first 16 free, the last 2 white (the page's rest level). A pattern is drawn uniformly from every
 * sequence that satisfies these, which is what makes the chance bound exact (the rank test above
 * needs the issued pattern to be one uniform draw from the set it is ranked in).
 */
export const SCREEN_PATTERN = {
  frames: 18,
  intervalMs: 80,
  /**
   * Frames at the end of the burst that stay white: the screen and camera lag up to 2 frames, so
   * without them the last free values are never seen. Those patterns were exact twins of the
   * issued one in the ranking (ties count against it), which is what cost live faces when the
   * credit was tightened; with the tail every free value reaches the recording at every lag searched.
   */
  restFrames: 2,
  /**
   * WCAG 2.3.1: no more than three flashes (a flash is a pair of opposite changes, so 6 changes) in
   * any one second, counting the change from the white page to pattern[0] and back to white after
   * the last free frame. Runs of one frame are allowed (they add patterns, not flashes).
   */
  maxChangesPerSecond: 6,
  /** Changes inside the burst: a pattern with few changes is absorbed by the drift term. */
  minChanges: 4,
  /** Frames on each level (light_shading and light_falloff average over each). */
  minLevelFrames: 4,
  /** Frames on each level whose previous frame had the same level (clean at any searched lag). */
  minSteadyFrames: 3,
} as const;

export interface ScreenLightResult {
  signal: 'screen_light';
  applies: boolean;
  /** 0..1, 1 = live-looking. */
  score: number;
  reason: string;
  /**
   * r2: the issued pattern's partial R²; shuffledR2: the best R² of any other issuable pattern;
   * rank: how many issuable patterns fit at least as well as the issued one (1 = best), of `patterns`.
   */
  details: { r2: number; shuffledR2: number; rank: number; patterns: number; lag: number; amplitude: number; frames: number };
  warning?: LivenessWarning;
}

/** The sequence's changes, counting the white rest before and after it (what the user sees). */
function changeTimes(p: readonly number[]): number[] {
  const seen = [SCREEN_LIGHT_SIGNAL.rest, ...p, SCREEN_LIGHT_SIGNAL.rest];
  const out: number[] = [];
  // change k (between seen[k] and seen[k+1]) happens when pattern[k] is shown: one interval before frame k
  for (let k = 0; k + 1 < seen.length; k++) if (seen[k] !== seen[k + 1]) out.push(k);
  return out;
}

/** A pattern the server may issue: both levels, enough changes, under WCAG's 3 flashes a second. */
export function isIssuableScreenPattern(p: readonly number[], intervalMs: number = SCREEN_PATTERN.intervalMs): boolean {
  const C = SCREEN_PATTERN;
  if (!p.every((v) => v === 0 || v === 1)) return false;
  // the white tail (restFrames): the last free value is seen at every lag searched
  if (p.length > C.restFrames && p.slice(p.length - C.restFrames).some((v) => v !== SCREEN_LIGHT_SIGNAL.rest)) return false;
  const on = p.reduce<number>((a, b) => a + b, 0);
  if (on < C.minLevelFrames || p.length - on < C.minLevelFrames) return false;
  let inner = 0;
  for (let i = 1; i < p.length; i++) if (p[i] !== p[i - 1]) inner++;
  if (inner < C.minChanges) return false;
  // light_shading and light_falloff compare frames fully under white with frames fully under dark
  // grey; at a half-frame lag only a frame whose predecessor had the same level is: keep enough
  let lit = 0, dark = 0;
  for (let i = 1; i < p.length; i++) if (p[i] === p[i - 1]) { if (p[i]) lit++; else dark++; }
  if (lit < C.minSteadyFrames || dark < C.minSteadyFrames) return false;
  // changes k and k' are (k' − k)·interval ms apart: within one second when that is ≤ 1000 ms
  const t = changeTimes(p), span = Math.floor(1000 / intervalMs);
  for (let a = 0; a < t.length; a++) {
    let c = 0;
    for (let b = a; b < t.length && t[b]! - t[a]! <= span; b++) c++;
    if (c > C.maxChangesPerSecond) return false;
  }
  return true;
}

const patternSets = new Map<number, { list: number[][]; unit: Float64Array; index: Map<string, number> }>();

/**
 * Every issuable pattern of `n` frames (15,260 for 18 frames at 80 ms: 16 free, 2 white), in a fixed
 * order, with each one's detrended lagged copies as unit vectors (what the fit correlates with the
 * face's brightness). Built once per process (≈ 60 ms for 18 frames).
 */
export function screenPatternSet(n: number = SCREEN_PATTERN.frames): { list: readonly (readonly number[])[]; unit: Float64Array; index: ReadonlyMap<string, number> } {
  let set = patternSets.get(n);
  if (!set) {
    // only the free frames vary: the white tail is fixed (isIssuableScreenPattern)
    const tail = n > SCREEN_PATTERN.restFrames ? SCREEN_PATTERN.restFrames : 0, free = n - tail;
    if (free > 20) throw new Error('screen-light patterns: at most 20 free frames');
    const list: number[][] = [];
    for (let m = 0; m < 1 << free; m++) {
      const p = Array.from({ length: n }, (_, i) => (i < free ? (m >> i) & 1 : SCREEN_LIGHT_SIGNAL.rest));
      if (isIssuableScreenPattern(p)) list.push(p);
    }
    const L = SCREEN_LIGHT_SIGNAL.lags.length;
    const unit = new Float64Array(list.length * L * n);
    list.forEach((p, k) => SCREEN_LIGHT_SIGNAL.lags.forEach((lag, li) => {
      const v = detrend(laggedPattern(p, lag));
      const norm = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
      // a lag that leaves nothing after the trend fits nothing (stays 0)
      if (norm > 1e-3) for (let j = 0; j < n; j++) unit[(k * L + li) * n + j] = v[j]! / norm;
    }));
    set = { list, unit, index: new Map(list.map((p, k) => [p.join(''), k])) };
    patternSets.set(n, set);
  }
  return set;
}

/**
 * A pattern for the page: one uniform draw from every issuable pattern of `n` frames
 * (isIssuableScreenPattern). Uniform matters: the chance bound is exact only for the distribution
 * the signal ranks against.
 */
export function randomScreenPattern(rng: Rng, n: number = SCREEN_PATTERN.frames): number[] {
  const { list } = screenPatternSet(n);
  if (!list.length) throw new Error(`no issuable screen-light pattern of ${n} frames`);
  return [...pick(rng, list)];
}

/**
 * The worst rank of the issued pattern that still gets credit: ⌊chance · patterns⌋ (5 of 15,260),
 * so that a recording independent of the draw gets credit with probability ≤ maxRank / patterns ≤ chance
 * (3.3 × 10⁻⁴ per challenge, ≤ 9.8 × 10⁻⁴ over a session's CHALLENGES_PER_SESSION).
 */
export function screenLightMaxRank(patterns: number): number {
  return Math.floor(SCREEN_LIGHT_SIGNAL.chance * patterns);
}

let lastFits: { n: number; ry: number[]; fits: Float64Array } | null = null;

/**
 * How many patterns of the issuable set fit the detrended brightness `ry` at least as well as
 * `pattern` (ties count against it), the best R² of the others, and the set's size. The fit of each
 * is its best positive-gain R² over the lags, the same statistic for every pattern: that is what
 * makes the issued pattern's rank uniform when the recording does not depend on it.
 */
export function patternRank(pattern: readonly number[], ry: readonly number[]): { rank: number; patterns: number; bestOther: number } {
  const n = pattern.length;
  const { list, unit, index } = screenPatternSet(n);
  const L = SCREEN_LIGHT_SIGNAL.lags.length;
  const syy = ry.reduce((a, b) => a + b * b, 0);
  // one brightness series against many issued patterns (the chance bench) reuses its fits
  const memo = lastFits && lastFits.n === n && lastFits.ry.every((v, j) => v === ry[j]) ? lastFits.fits : null;
  const fits = memo ?? new Float64Array(list.length).fill(-1);
  if (!memo) lastFits = { n, ry: ry.slice(), fits };
  const score = (k: number): number => {
    if (fits[k]! >= 0) return fits[k]!;
    let best = 0;
    for (let li = 0; li < L; li++) {
      const o = (k * L + li) * n;
      let s = 0;
      for (let j = 0; j < n; j++) s += unit[o + j]! * ry[j]!;
      if (s > 0 && s * s > best) best = s * s;
    }
    return (fits[k] = syy > 0 ? best / syy : 0);
  };
  const at = index.get(pattern.join(''));
  // (a pattern outside the set, e.g. a test's, is ranked against the set all the same)
  const own = at !== undefined ? score(at) : fit(pattern, ry, SCREEN_LIGHT_SIGNAL.lags).r2;
  let rank = 1, bestOther = 0;
  for (let k = 0; k < list.length; k++) {
    if (k === at) continue;
    const t = score(k);
    if (t > bestOther) bestOther = t;
    // a tie with the issued pattern counts as at least as good (twins cannot lift its rank)
    if (t >= own - 1e-9) rank++;
  }
  return { rank, patterns: list.length + (at === undefined ? 1 : 0), bestOther };
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

/**
 * @param burst the burst frames (one per pattern value, in order)
 * @param face the face in the burst (burst pixels; the capture frame's box)
 * @param pattern the pattern the page showed (0 dark grey, 1 white per frame)
 * @param offsets the face's shift in each frame (light-shading.ts faceRegistration); none: a fixed box
 */
export function screenLightSignal(burst: readonly Frame[], face: FaceGeometry, pattern: readonly number[], offsets?: readonly Point[]): ScreenLightResult {
  const n = Math.min(burst.length, pattern.length);
  return screenLightFromSeries(faceBrightness(burst.slice(0, n), face, offsets), pattern.slice(0, n));
}

/** The face's mean luminance in each frame (the inner face box, following the face by `offsets`). */
export function faceBrightness(burst: readonly Frame[], face: FaceGeometry, offsets?: readonly Point[]): number[] {
  const ib = faceCentre(face.box);
  // the face box follows the face (offsets): content moving through a fixed box changes its brightness
  return burst.map((f, i) => { const o = offsets?.[i]; return meanLuma(f, o ? { ...ib, x: ib.x + o.x, y: ib.y + o.y } : ib); });
}

/**
 * screen_light on the face's mean luminance per burst frame (`y`, one value per pattern frame): the
 * signal proper, split from the pixels so that the chance bench (bench/liveness/screen-light-chance.ts)
 * can run it on recorded brightness series against many issued patterns.
 */
export function screenLightFromSeries(y: readonly number[], pattern: readonly number[]): ScreenLightResult {
  const n = Math.min(y.length, pattern.length);
  const pat = pattern.slice(0, n);
  const details = { r2: 0, shuffledR2: 0, rank: 0, patterns: 0, lag: 0, amplitude: 0, frames: n };
  if (n < 8 || pat.every((v) => v === pat[0])) return { signal: 'screen_light', applies: false, score: 1, reason: 'too few frames or no change of the screen light', details };
  const ry = detrend(y.slice(0, n));
  const best = fit(pat, ry, SCREEN_LIGHT_SIGNAL.lags);
  // Every pattern the server could have issued, ranked by the same fit: the issued one must be among
  // the best `chance` of them. A recording made without this pattern ranks it uniformly at random.
  const { rank, patterns, bestOther } = patternRank(pat, ry);
  const brightness = y.slice(0, n).reduce((a, b) => a + b, 0) / n;
  // The fit's gain can be inflated by the face's own brightness changes that happen to line up with
  // the pattern (a replayed video); the plain difference between frames under white and under dark
  // grey (after the trend) cannot: the smaller of the two is the light's amplitude.
  const level = laggedPattern(pat, best.lag);
  const litY = ry.filter((_, j) => level[j]! >= 0.9), darkY = ry.filter((_, j) => level[j]! <= 0.1);
  const contrast = litY.length && darkY.length ? litY.reduce((a, b) => a + b, 0) / litY.length - darkY.reduce((a, b) => a + b, 0) / darkY.length : best.gain;
  const amplitude = Math.min(best.gain, contrast / (1 - SCREEN_DARK)) / Math.max(1, brightness);
  const C = SCREEN_LIGHT_SIGNAL;
  // no credit outside the top ⌊chance · patterns⌋ (so no session ranked there escapes a decline)
  const ranked = rank <= screenLightMaxRank(patterns) ? 1 : 0;
  const follows = ramp(best.r2, C.r2None, C.r2Follows) * ranked * ramp(amplitude, C.weak, C.strong);
  const score = clamp01(0.03 + 0.97 * follows);
  const r = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;
  const out: ScreenLightResult = {
    signal: 'screen_light', applies: true, score: r(score),
    reason: score >= 0.5 ? "the face's brightness follows the screen's light" : ramp(amplitude, C.weak, C.strong) < 0.5 && best.r2 >= C.r2None && ranked > 0 ? 'the face follows the screen light only as a faint reflection' : ranked === 0 && best.r2 >= C.r2None ? `the face's brightness fits ${rank - 1} other light patterns as well as the one shown` : "the face's brightness does not follow the screen's light",
    details: { r2: r(best.r2), shuffledR2: r(bestOther), rank, patterns, lag: best.lag, amplitude: r(amplitude, 4), frames: n },
  };
  if (score < 0.5) out.warning = livenessWarning('LIGHT_MISMATCH', score < 0.2 ? 'error' : 'warning', { r2: out.details.r2, rank, patterns, amplitude: out.details.amplitude });
  return out;
}
