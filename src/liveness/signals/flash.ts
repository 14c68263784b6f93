/**
 * FLASHING: the page fills the screen with a server-chosen random colour sequence while recording.
 *
 * - flash_response: the mean colour of the face follows the sequence, channel by channel, with a
 *   camera/display lag within the allowed range: per-channel linear fit of the face colour on the
 *   shown colour at the best lag (R²), ranked among the same fit for every other order of the same
 *   colours (a recording of another sequence, or no response, ranks the issued order like any other).
 * - flash_shading: the screen is a light in front of the face. Per patch of the face, the increase
 *   under bright colours over the black lead-in, divided by the lead-in brightness (albedo and
 *   room light cancel), is constant (or a linear gradient) on a flat print, and varies with the
 *   surface normal (nose, cheek curvature) on a 3D face.
 */
import { CHALLENGES_PER_SESSION, SESSION_CHANCE } from './screen-light.ts';
import { FLASH_MIN_ORDERS, FLASH_PALETTE, flashColourAt, flashOrders, type FlashColour, type FlashingChallenge } from '../challenge.ts';
import { leastSquares } from '../geometry.ts';
import { clamp01, clipBox, faceCentre, faceInner, greyOf, median, ramp } from '../image.ts';
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
  /**
   * Chance acceptance of a recording that does not follow the sequence: the issued order must rank
   * in the top ⌊chance · orders⌋ of every valid order of its colours (orderRank), so such a
   * recording gets credit with probability ≤ chance. createChallenge only issues colour sets with at
   * least `minOrders` valid orders, so that the top rank alone is within the bound. Per challenge:
   * a session issues up to CHALLENGES_PER_SESSION, so the session's 1 in 1,000 is split between them.
   */
  chance: SESSION_CHANCE / CHALLENGES_PER_SESSION,
  minOrders: FLASH_MIN_ORDERS,
  /** Relative response (gain over face brightness): below `weak` the face barely reflects the screen. */
  weak: 0.05,
  strong: 0.1,
  /** Shading: residual of a linear fit of the per-patch relative response, over its mean. */
  flatShading: 0.05,
  curvedShading: 0.1,
  grid: 6,
} as const;

export interface FaceColour { t: number; rgb: [number, number, number] }

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

/**
 * The face colours of the frames used at one lag, summed per segment of the sequence (0 the black
 * lead-in, 1..n the steps, n + 1 black after the end). The steps' durations are the challenge's
 * whatever the order of the colours, so which frames fall in which segment does not depend on the
 * order: every order's fit at this lag is a few sums over the segments (fitOrder).
 */
interface LagStats { lag: number; n: number; count: Float64Array; sumY: Float64Array; total: [number, number, number]; totalSq: [number, number, number] }

function lagStats(ch: FlashingChallenge, cols: readonly FaceColour[], lag: number): LagStats | null {
  const use = cols.filter((c) => !nearEdge(ch, c.t - lag) && c.t - lag >= 0);
  if (use.length < 8) return null;
  const S = ch.steps.length + 2;
  const count = new Float64Array(S), sumY = new Float64Array(S * 3);
  const total: [number, number, number] = [0, 0, 0], totalSq: [number, number, number] = [0, 0, 0];
  for (const c of use) {
    const t = c.t - lag;
    let g = 0, edge = ch.leadInMs;
    if (t >= edge) {
      g = S - 1;
      for (let s = 0; s < ch.steps.length; s++) { if (t < edge + ch.steps[s]!.ms) { g = s + 1; break; } edge += ch.steps[s]!.ms; }
    }
    count[g]!++;
    for (let k = 0; k < 3; k++) { const y = c.rgb[k]!; sumY[g * 3 + k]! += y; total[k] = total[k]! + y; totalSq[k] = totalSq[k]! + y * y; }
  }
  return { lag, n: use.length, count, sumY, total, totalSq };
}

/**
 * Per-channel linear fit of the face colour on the shown colour at one lag, for the steps' colours
 * in `order` (0..1 RGB per step): R² over the three channels (≤ 0 when a channel gets darker under
 * its light: not a reflection), gain and base per channel.
 */
function fitOrder(st: LagStats, order: readonly (readonly number[])[]): { r2: number; gain: [number, number, number]; base: [number, number, number] } {
  const gain: [number, number, number] = [0, 0, 0], base: [number, number, number] = [0, 0, 0];
  return { r2: orderR2(st, order, gain, base), gain, base };
}

/**
 * fitOrder's R², allocation-free unless `gain` / `base` are given to fill: the ranking evaluates it
 * for thousands of orders at each lag, and the issued order's own R² (from fitOrder) is the same
 * arithmetic, so the two tie exactly.
 */
function orderR2(st: LagStats, order: readonly (readonly number[])[], gain?: number[], base?: number[]): number {
  const S = order.length + 2;
  let ssr = 0, sst = 0, positive = true;
  for (let k = 0; k < 3; k++) {
    let sx = 0, sxx = 0, sxy = 0;
    for (let g = 1; g < S - 1; g++) {
      const x = order[g - 1]![k]!;
      sx += st.count[g]! * x; sxx += st.count[g]! * x * x; sxy += x * st.sumY[g * 3 + k]!;
    }
    const mx = sx / st.n, my = st.total[k]! / st.n;
    const vxx = sxx - st.n * mx * mx, vxy = sxy - st.n * mx * my, vyy = st.totalSq[k]! - st.n * my * my;
    const g = vxx > 1e-12 ? vxy / vxx : 0;
    if (gain) gain[k] = g;
    if (base) base[k] = my - g * mx;
    // a negative gain (darker under light) is not a reflection
    if (!(g > 0)) positive = false;
    sst += vyy;
    ssr += vyy - (vxx > 1e-12 ? (vxy * vxy) / vxx : 0);
  }
  const r2 = sst > 0 ? 1 - ssr / sst : 0;
  return positive ? r2 : Math.min(r2, 0);
}

/** Best fit over the lags of the steps' colours in `order` (the statistic every order is ranked by). */
function bestFit(stats: readonly LagStats[], order: readonly (readonly number[])[]): { r2: number; lag: number; gain: [number, number, number]; base: [number, number, number] } {
  let best = { r2: -Infinity, lag: 0, gain: [0, 0, 0] as [number, number, number], base: [0, 0, 0] as [number, number, number] };
  for (const st of stats) {
    const f = fitOrder(st, order);
    if (f.r2 > best.r2) best = { ...f, lag: st.lag };
  }
  return best;
}

const rgb01 = (c: FlashColour): number[] => FLASH_PALETTE[c].map((v) => v / 255);

/**
 * The issued order's rank among every valid order of its colours (flashOrders), all fitted on the
 * same lag grid (ties count against it), and the best R² of the others. A recording made without
 * this sequence cannot depend on which order was drawn, so it ranks the issued one first with
 * probability ≤ 1 / orders (docs/liveness.md, "Chance acceptance of a recording").
 */
function orderRank(ch: FlashingChallenge, stats: readonly LagStats[], own: number): { rank: number; orders: number; bestOther: number } {
  const orders = flashOrders(ch.steps.map((s) => s.colour));
  const issued = ch.steps.map((s) => s.colour).join(',');
  let rank = 1, bestOther = 0;
  for (const o of orders) {
    if (o.join(',') === issued) continue;
    const x = o.map(rgb01);
    let r2 = -Infinity;
    for (const st of stats) r2 = Math.max(r2, orderR2(st, x));
    if (r2 > bestOther) bestOther = r2;
    if (r2 >= own - 1e-9) rank++;
  }
  return { rank, orders: orders.length, bestOther };
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
  const { response, lag } = flashResponse(ch, cols);
  const out: SignalResult[] = [response];
  if (response.score >= 0.5) out.push(shadingSignal(ch, fr, offs, face, lag));
  return out;
}

/**
 * flash_response on the face's mean colour per frame (`cols`, times from the start of the sequence):
 * the signal proper, split from the pixels so that the chance bench (bench/liveness/flash-chance.ts)
 * can run it on one recording against many issued challenges.
 */
export function flashResponse(ch: FlashingChallenge, cols: readonly FaceColour[]): { response: SignalResult; lag: number } {
  const lags: number[] = [];
  for (let l = -30; l <= ch.maxLagMs + FLASH.extraLagMs; l += FLASH.lagStepMs) lags.push(l);
  const stats = lags.map((l) => lagStats(ch, cols, l)).filter((x): x is LagStats => x !== null);
  const fit = bestFit(stats, ch.steps.map((s) => s.rgb.map((v) => v / 255)));
  // Every other order of the same colours, on the same lags: the issued one must fit best (within
  // the top ⌊chance · orders⌋). This replaces a margin over 24 random re-orderings on a coarser lag
  // grid, which bounded a recording's chance only near 1/25.
  const { rank, orders, bestOther } = stats.length ? orderRank(ch, stats, fit.r2) : { rank: 1, orders: 1, bestOther: 0 };
  const ranked = rank <= Math.floor(FLASH.chance * orders) ? 1 : 0;
  const brightness = cols.reduce((s, c) => s + (c.rgb[0] + c.rgb[1] + c.rgb[2]) / 3, 0) / cols.length;
  const amplitude = (fit.gain[0] + fit.gain[1] + fit.gain[2]) / 3 / Math.max(1, brightness);
  const late = fit.lag > ch.maxLagMs;
  const follows = ramp(fit.r2, FLASH.r2None, FLASH.r2Follows) * ranked * ramp(amplitude, FLASH.weak, FLASH.strong);
  const score = late ? Math.min(0.05, follows) : clamp01(0.03 + 0.97 * follows);
  const details = { r2: round(fit.r2, 3), shuffledR2: round(bestOther, 3), rank, orders, lagMs: fit.lag, amplitude: round(amplitude, 3), frames: cols.length };
  const response: SignalResult = {
    signal: 'flash_response', applies: true, score: round(score, 3), details,
    reason: late ? `the face follows the colours ${fit.lag} ms late (limit ${ch.maxLagMs} ms)` : score >= 0.5 ? 'the face reflects the colour sequence in time' : 'the face does not reflect the colour sequence',
  };
  if (score < 0.5) response.warning = livenessWarning(late ? 'CHALLENGE_TIMEOUT' : 'FLASH_SEQUENCE_MISMATCH', 'error', details);
  return { response, lag: fit.lag };
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
