/**
 * ACTIVE_3D: a random head-turn challenge (e.g. right, up, left). From the face engine's analysis
 * of the recorded frames (landmarks, head pose, embedding):
 *
 * - challenge_track: the yaw/pitch track, relative to the lead-in pose, reaches each asked direction
 *   (`reachFraction` of the asked degrees, held two analysed frames) in the asked order, each within
 *   the step time limit; a different direction held first is a wrong order.
 * - parallax_3d: at each turn the 68 landmarks are NOT a homography of the lead-in landmarks (a flat
 *   picture turned or tilted is exactly one; a head is not: the nose moves against the face outline).
 * - same_face: every analysed frame is the same person as the lead-in (and as the still, if given).
 *
 * Directions are the user's own: the page shows a mirrored preview, so "left" turns the face towards
 * the (unmirrored) image's right, which is yaw > 0 in the face engine's convention; "up" is pitch > 0.
 */
import type { Active3dChallenge, Direction } from '../challenge.ts';
import { cosine, similarityFromCosine } from '../../face/compare.ts';
import { fitHomography, residuals } from '../geometry.ts';
import { clamp01, median, percentile, ramp } from '../image.ts';
import type { Point, SignalResult } from '../types.ts';
import { livenessWarning } from '../warnings.ts';

export interface PoseSample {
  /** ms from the start of the challenge. */
  t: number;
  /** null when no face was found in the frame. */
  face: {
    landmarks: readonly Point[];
    pose: { yaw: number; pitch: number; roll: number };
    embedding?: ArrayLike<number> | null | undefined;
  } | null;
}

export const ACTIVE = {
  /** A direction must be held this many consecutive analysed frames to count. */
  holdFrames: 2,
  /**
   * Share of the asked degrees the measured turn (relative to the lead-in) must reach. People asked to
   * turn turn by 15–35° and look down less than up, and the face engine reads a down turn at 0.2–1.3×
   * its size (median 1.0; 0.2–0.5 on some faces), a left/right turn at 0.85–1.4×: 0.6 accepts a 15°
   * turn asked as 18° and a 10° look down asked as 12°, and stays above the lead-in noise (≤ 5°) and
   * what a flat picture turned 20–30° reads (≤ 7° of yaw, ≤ 6.5° of pitch, two frames held).
   */
  reachFraction: 0.6,
  /** A turn reached this long before its instruction appeared is an answer given before being asked. */
  earlyMs: 150,
  /** Change of (nose tip − eyes) / (mouth − eyes) per degree of pitch (from the generic head). */
  noseRatioPerDegree: 0.0104,
  /**
   * Homography residual of the landmarks at a turn (over the outer eye-corner distance) in excess of
   * the same residual between lead-in frames (landmark noise): from `flatExcess` (a flat picture) to
   * `parallaxExcess` (a 3D head; a 20° turn gives ≈ 0.05–0.1).
   */
  flatResidual: 0.025,
  flatExcess: 0.01,
  parallaxExcess: 0.03,
  /** Face similarity score (0–100, the face engine's scale) of every frame against the lead-in: different → same. */
  differentFace: 45,
  sameFace: 60,
  /** Share of frames without a face above which the recording is unusable. */
  maxLost: 0.3,
} as const;

const SIGN: Record<Direction, { axis: 'yaw' | 'pitch'; sign: 1 | -1 }> = {
  left: { axis: 'yaw', sign: 1 },
  right: { axis: 'yaw', sign: -1 },
  up: { axis: 'pitch', sign: 1 },
  down: { axis: 'pitch', sign: -1 },
};

function eyeDistance(lm: readonly Point[]): number {
  return Math.hypot(lm[45]!.x - lm[36]!.x, lm[45]!.y - lm[36]!.y) || 1;
}

type Seen = PoseSample & { face: NonNullable<PoseSample['face']> };

export interface TrackPoint {
  t: number;
  /** Yaw and pitch (deg) relative to the lead-in; pitch is the larger of the engine pose's and the landmarks'. */
  dy: number; dp: number;
  dpPose: number; dpLm: number;
  /** |dy| and |dp| over the degrees that count as reached (`reachFraction` of the asked ones). */
  ey: number; ep: number;
  state: Direction | 'centre';
}

/** The head's turn in every analysed frame relative to the lead-in pose (exported for the benchmark's diagnostics). */
export function measureTrack(ch: Active3dChallenge, seen: readonly Seen[]): { base: Seen[]; by: number; bp: number; /** degrees that count as reached */ thr: { yaw: number; pitch: number }; at: Map<Seen, TrackPoint> } {
  // lead-in (baseline) pose
  let base = seen.filter((s) => s.t <= ch.leadInMs);
  if (base.length < 2) base = seen.slice(0, 2);
  const by = median(base.map((s) => s.face.pose.yaw)), bp = median(base.map((s) => s.face.pose.pitch));
  const asked = { yaw: ch.steps.find((s) => SIGN[s.direction].axis === 'yaw')?.degrees ?? 18, pitch: ch.steps.find((s) => SIGN[s.direction].axis === 'pitch')?.degrees ?? 12 };
  const thr = { yaw: ACTIVE.reachFraction * asked.yaw, pitch: ACTIVE.reachFraction * asked.pitch };
  // vertical turn also from the landmarks: where the nose tip sits between the eyes and the mouth
  // (robust where the pose estimator's pitch is not); ≈ 0.01 per degree
  const vOf = (lm: readonly Point[]): number => {
    const ey = (lm[36]!.y + lm[39]!.y + lm[42]!.y + lm[45]!.y) / 4, my = (lm[48]!.y + lm[54]!.y) / 2;
    return my - ey !== 0 ? (lm[30]!.y - ey) / (my - ey) : 0;
  };
  const bv = median(base.map((s) => vOf(s.face.landmarks)));
  const at = new Map<Seen, TrackPoint>();
  for (const s of seen) {
    const dy = s.face.pose.yaw - by;
    const dpPose = s.face.pose.pitch - bp, dpLm = -(vOf(s.face.landmarks) - bv) / ACTIVE.noseRatioPerDegree;
    const dp = Math.abs(dpLm) > Math.abs(dpPose) ? dpLm : dpPose;
    const ey = Math.abs(dy) / thr.yaw, ep = Math.abs(dp) / thr.pitch;
    const state: Direction | 'centre' = ey < 1 && ep < 1 ? 'centre' : ey >= ep ? (dy > 0 ? 'left' : 'right') : dp > 0 ? 'up' : 'down';
    at.set(s, { t: s.t, dy, dp, dpPose, dpLm, ey, ep, state });
  }
  return { base, by, bp, thr, at };
}

export function activeSignals(ch: Active3dChallenge, samples: readonly PoseSample[], opts: { reference?: ArrayLike<number> | null } = {}): SignalResult[] {
  const all = samples.filter((s) => s.t >= 0).slice().sort((a, b) => a.t - b.t);
  const seen = all.filter((s) => s.face) as Seen[];
  const lost = all.length ? 1 - seen.length / all.length : 1;
  if (seen.length < 6 || lost > ACTIVE.maxLost) {
    return [{
      signal: 'challenge_track', applies: true, score: 0.03, reason: `a face was found in ${seen.length} of ${all.length} frames`,
      details: { frames: all.length, withFace: seen.length }, warning: livenessWarning('CHALLENGE_INVALID', 'error', { reason: 'face lost', frames: all.length, withFace: seen.length }),
    }];
  }
  const tr = measureTrack(ch, seen);
  const { base, by, bp } = tr;
  const excessOf = (s: (typeof seen)[number]) => tr.at.get(s)!;
  const stateOf = (s: (typeof seen)[number]): Direction | 'centre' => tr.at.get(s)!.state;
  // holds: runs of the same non-centre state over consecutive analysed frames
  const holds: Array<{ dir: Direction; start: number; peak: (typeof seen)[number] }> = [];
  let run: { dir: Direction | 'centre'; n: number; start: number; peak: (typeof seen)[number]; excess: number } | null = null;
  for (const s of seen) {
    const st = stateOf(s);
    const e = excessOf(s);
    const ex = st === 'centre' ? 0 : SIGN[st].axis === 'yaw' ? e.ey : e.ep;
    if (run && run.dir === st) {
      run.n++;
      if (ex > run.excess) { run.peak = s; run.excess = ex; }
    } else run = { dir: st, n: 1, start: s.t, peak: s, excess: ex };
    if (run.dir !== 'centre' && run.n === ACTIVE.holdFrames) holds.push({ dir: run.dir, start: run.start, peak: run.peak });
    else if (run.dir !== 'centre' && run.n > ACTIVE.holdFrames) holds[holds.length - 1]!.peak = run.peak;
  }
  // match holds to the steps in order and in time
  let step = 0;
  const hits: Array<{ dir: Direction; t: number; peak: (typeof seen)[number] }> = [];
  let failure: { risk: string; detail: Record<string, unknown> } | null = null;
  for (const h of holds) {
    if (step >= ch.steps.length) break;
    const want = ch.steps[step]!;
    if (h.dir === want.direction) {
      if (h.start < want.atMs - ACTIVE.earlyMs) {
        failure = { risk: 'CHALLENGE_ORDER', detail: { step: step + 1, direction: want.direction, reason: 'turned before being asked', atMs: h.start, askedAtMs: want.atMs } };
        break;
      }
      if (h.start > want.atMs + ch.stepTimeoutMs) {
        failure = { risk: 'CHALLENGE_TIMEOUT', detail: { step: step + 1, direction: want.direction, reachedMs: h.start, limitMs: want.atMs + ch.stepTimeoutMs } };
        break;
      }
      hits.push({ dir: h.dir, t: h.start, peak: h.peak });
      step++;
    } else if (step > 0 && h.dir === ch.steps[step - 1]!.direction) {
      continue; // still (or again) holding the previous turn
    } else {
      failure = { risk: 'CHALLENGE_ORDER', detail: { step: step + 1, expected: want.direction, got: h.dir, atMs: h.start } };
      break;
    }
  }
  if (!failure && step < ch.steps.length) {
    failure = { risk: 'CHALLENGE_TIMEOUT', detail: { step: step + 1, direction: ch.steps[step]!.direction, reason: 'never reached', lastFrameMs: all[all.length - 1]!.t } };
  }
  const trackDetails = { steps: ch.steps.map((s) => s.direction).join(','), reached: hits.map((h) => `${h.dir}@${Math.round(h.t)}`).join(',') || 'none', baselineYaw: Math.round(by), baselinePitch: Math.round(bp), frames: all.length, withFace: seen.length };
  const out: SignalResult[] = [];
  if (failure) {
    out.push({ signal: 'challenge_track', applies: true, score: 0.03, reason: failure.risk === 'CHALLENGE_ORDER' ? 'head turns in the wrong order' : 'head turns not completed in time', details: trackDetails, warning: livenessWarning(failure.risk, 'error', failure.detail) });
  } else {
    out.push({ signal: 'challenge_track', applies: true, score: 1, reason: 'head turns in the asked order and in time', details: trackDetails });
  }
  // parallax at each turn reached (the flat-picture test)
  const baseLm = base.reduce((best, s) => (Math.abs(s.face.pose.yaw - by) + Math.abs(s.face.pose.pitch - bp) < Math.abs(best.face.pose.yaw - by) + Math.abs(best.face.pose.pitch - bp) ? s : best), base[0]!).face.landmarks;
  const turned = (hits.length ? hits.map((h) => h.peak) : seen.slice().sort((a, b) => (Math.abs(b.face.pose.yaw - by) + Math.abs(b.face.pose.pitch - bp)) - (Math.abs(a.face.pose.yaw - by) + Math.abs(a.face.pose.pitch - bp))).slice(0, 2));
  const homResidual = (a: readonly Point[], b: readonly Point[]): number => {
    const H = fitHomography(a, b);
    if (!H) return 0;
    const r = residuals(H, a, b);
    return Math.sqrt(r.reduce((x, y) => x + y * y, 0) / r.length) / eyeDistance(b);
  };
  const resid = turned.map((s) => homResidual(baseLm, s.face.landmarks));
  // landmark noise: the same residual between lead-in frames (no turn)
  const noiseRes = base.filter((s) => s.face.landmarks !== baseLm).map((s) => homResidual(baseLm, s.face.landmarks));
  const noise = noiseRes.length ? median(noiseRes) : ACTIVE.flatResidual;
  const par = resid.length ? median(resid) : 0;
  const excess = par - noise;
  const pScore = clamp01(0.05 + 0.95 * ramp(excess, ACTIVE.flatExcess, ACTIVE.parallaxExcess));
  const pr: SignalResult = {
    signal: 'parallax_3d', applies: true, score: round(pScore, 3), details: { residual: round(par, 4), noise: round(noise, 4), turns: resid.length },
    reason: pScore >= 0.5 ? 'landmarks move like a 3D head' : 'landmarks move like one flat picture',
  };
  if (pScore < 0.5) pr.warning = livenessWarning('NO_3D_PARALLAX', pScore < 0.2 ? 'error' : 'warning', { residual: round(par, 4), noise: round(noise, 4) });
  out.push(pr);
  // same person throughout
  const embs = seen.map((s) => s.face.embedding).filter((e): e is ArrayLike<number> => !!e && e.length > 0);
  if (embs.length >= 2) {
    const refs: ArrayLike<number>[] = [];
    const baseEmb = base.map((s) => s.face.embedding).filter((e): e is ArrayLike<number> => !!e && e.length > 0);
    if (baseEmb.length) refs.push(meanVector(baseEmb));
    if (opts.reference) refs.push(opts.reference);
    if (!refs.length) refs.push(embs[0]!);
    const sims = embs.map((e) => Math.min(...refs.map((r) => 100 * similarityFromCosine(cosine(e, r)))));
    const low = percentile(sims, 10);
    const sScore = clamp01(0.03 + 0.97 * ramp(low, ACTIVE.differentFace, ACTIVE.sameFace));
    const sr: SignalResult = { signal: 'same_face', applies: true, score: round(sScore, 3), details: { lowestSimilarity: round(low, 1), frames: embs.length }, reason: sScore >= 0.5 ? 'the same face throughout' : 'the face changes during the challenge' };
    if (sScore < 0.5) sr.warning = livenessWarning('FACE_CHANGED', 'error', { lowestSimilarity: round(low, 1) });
    out.push(sr);
  } else {
    out.push({ signal: 'same_face', applies: false, score: 1, reason: 'no embeddings given' });
  }
  return out;
}

function meanVector(vs: readonly ArrayLike<number>[]): number[] {
  const n = vs[0]!.length;
  const out = new Array<number>(n).fill(0);
  for (const v of vs) {
    let l = 0;
    for (let i = 0; i < n; i++) l += v[i]! * v[i]!;
    l = Math.sqrt(l) || 1;
    for (let i = 0; i < n; i++) out[i]! += v[i]! / l;
  }
  return out;
}


const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;
