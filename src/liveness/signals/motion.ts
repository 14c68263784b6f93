/**
 * Burst motion consistency (PASSIVE). Points on the face and in a ring around it are tracked from
 * the capture frame to a few frames of the ~1 s burst (pyramidal Lucas–Kanade, forward–backward
 * checked).
 *
 * - A flat picture (print, phone, monitor) moves as one plane: one homography explains the motion of
 *   every face point to within the tracking noise predicted from the image noise and texture, and
 *   the ring around the face (inside the same photo/screen) follows that same homography.
 * - A head is not flat: the nose, eyes and cheeks move differently when it turns (parallax, a
 *   residual well above the predicted noise), and it moves independently of the room behind it,
 *   so the ring does not follow the face's homography.
 * - A perfectly static burst is not a live face; bit-identical frames are an injected still
 *   (virtual camera or frozen stream).
 */
import { binnedGreyOf, clamp01, clipBox, median, percentile, ramp, scaleBox } from '../image.ts';
import { applyH, robustFit } from '../geometry.ts';
import { buildPyramid, cornerness, homographyJacobian, LKTemplates, noiseSigma, refineLK, trackingError, trackLK, type Pyramid } from '../track.ts';
import type { Float32Arena } from '../scratch.ts';
import type { FaceGeometry, Frame, GreyImage, Point, RgbImage, SignalResult } from '../types.ts';
import { livenessWarning } from '../warnings.ts';

export interface MotionOptions {
  /** Index of the frame the face geometry refers to (default: middle frame). */
  captureIndex?: number;
  /** Where the pyramids' pixels come from: they must outlive the tracking's use (passiveLiveness). */
  arena?: Float32Arena;
}

/** Constants (burst pixels at ≈320 px width). Documented in docs/liveness.md. */
export const MOTION = {
  workWidth: 320,
  /** Frames tracked against the capture frame (evenly spread over the burst). */
  trackedFrames: 5,
  maxFacePoints: 45,
  maxRingPoints: 35,
  /** Points in the rest of the frame (the room beyond a hand-held device), for the device-motion signal. */
  maxOuterPoints: 40,
  minOuterCornerness: 0.5,
  /** Mean absolute difference (grey levels) under which two frames count as identical. */
  identicalMad: 0.05,
  /** Face motion (px) under which the burst counts as static. */
  staticMotion: 0.3,
  /** Face motion (px) from which a frame is used for the planarity test. */
  minMotion: 0.5,
  /** Forward–backward error (px) above which a track is dropped. */
  maxFb: 0.5,
  /** Scale of the predicted tracking error (1: the noise/texture prediction as is) and its floor (interpolation bias of LK, px). */
  noiseScale: 1,
  noiseFloor: 0.03,
  /** Normalised face residual: at or below `flat` the face moved as a plane, from `parallax` it has depth. */
  flat: 3.0,
  parallax: 4.5,
  /** Share of ring points following the face's plane: up to `independent` the head moves on its own, from `rigid` the surroundings move with it. */
  independent: 0.25,
  rigid: 0.45,
  /** Score of a burst in which the face did not move at all (not an attack on its own). */
  staticScore: 0.35,
} as const;

interface Track { ref: Point; face: boolean; err: number; at: Map<number, Point>; outer?: boolean }

/** What the tracking step hands to the motion signals (the burst-level evidence). */
export interface BurstTracking {
  /** Tracks of face points, ring points (around the face, inside `region`) and outer points (the rest of the frame). */
  tracks: Track[];
  targets: number[];
  refIndex: number;
  /** Face box and tracking region in work pixels (≈ 320 px wide). */
  box: { x: number; y: number; width: number; height: number };
  /** Grey pyramids of the capture frame and of every tracked frame (work pixels). */
  ref: Pyramid;
  pyramids: Map<number, Pyramid>;
  sigma: number;
  bin: number;
  identicalPairs: number;
  nFace: number;
}

export function motionSignal(frames: readonly Frame[], face: FaceGeometry, opts: MotionOptions = {}): SignalResult {
  const t = trackBurst(frames, face, opts);
  return 'signal' in t ? t : motionFromTracking(t, frames.length);
}

/** Points on and around the face tracked from the capture frame to a few burst frames, or the signal result when that is not possible. */
export function trackBurst(frames: readonly Frame[], face: FaceGeometry, opts: MotionOptions = {}): BurstTracking | SignalResult {
  if (frames.length < 4) return { signal: 'motion', applies: false, score: 1, reason: `burst of ${frames.length} frames (4 or more needed)` };
  const w0 = frames[0]!.image.width, h0 = frames[0]!.image.height;
  if (frames.some((f) => f.image.width !== w0 || f.image.height !== h0)) return { signal: 'motion', applies: false, score: 1, reason: 'burst frames differ in size' };
  const refIndex = Math.min(frames.length - 1, Math.max(0, opts.captureIndex ?? Math.floor(frames.length / 2)));
  const bin = Math.max(1, Math.round(w0 / MOTION.workWidth));
  const box = scaleBox(face.box, 1 / bin);

  // 1. identical frames (injected still / frozen stream), on a sparse grid of the raw frames
  const mads: number[] = [];
  for (let i = 1; i < frames.length; i++) mads.push(rgbMad(frames[i - 1]!.image, frames[i]!.image));
  const identicalPairs = mads.filter((m) => m < MOTION.identicalMad).length;
  if (identicalPairs === mads.length) {
    return {
      signal: 'motion', applies: true, score: 0.02, reason: 'all burst frames are identical',
      details: { frames: frames.length, identicalPairs, maxMad: round(Math.max(...mads), 3) },
      warning: livenessWarning('FROZEN_FRAMES', 'error', { frames: frames.length }),
    };
  }
  // one frame of each run of duplicates (slow cameras repeat frames), then a few spread over the burst
  const distinct: number[] = [];
  for (let i = 0; i < frames.length; i++) {
    if (i === refIndex) continue;
    if (rgbMad(frames[i]!.image, frames[refIndex]!.image) < MOTION.identicalMad) continue;
    if (distinct.length && distinct[distinct.length - 1] === i - 1 && mads[i - 1]! < MOTION.identicalMad) continue;
    distinct.push(i);
  }
  const targets = spread(distinct, MOTION.trackedFrames);
  const greyCache = new Map<number, GreyImage>();
  const grey = (i: number) => { let g = greyCache.get(i); if (!g) { g = binnedGreyOf(frames[i]!.image, bin); greyCache.set(i, g); } return g; };
  const W = grey(refIndex).width, H = grey(refIndex).height;

  // 2. points on and around the face in the reference frame, and (fewer) in the rest of the frame
  const region = clipBox({ x: box.x - 0.75 * box.width, y: box.y - 0.6 * box.height, width: box.width * 2.5, height: box.height * 2.4 }, W, H);
  if (!region || box.width < 16) return { signal: 'motion', applies: false, score: 1, reason: 'face too small in the burst' };
  const ref = buildPyramid(grey(refIndex), 2, opts.arena);
  const sigma = noiseSigma(grey(refIndex));
  const inner = { x: box.x + 0.12 * box.width, y: box.y + 0.1 * box.height, x1: box.x + 0.88 * box.width, y1: box.y + 0.95 * box.height };
  const step = Math.max(4, Math.round(box.width / 9));
  const faceC: Array<{ p: Point; c: number }> = [], ringC: Array<{ p: Point; c: number }> = [], outerC: Array<{ p: Point; c: number }> = [];
  for (let y = region.y + 8; y < region.y + region.height - 8; y += step) {
    for (let x = region.x + 8; x < region.x + region.width - 8; x += step) {
      const c = cornerness(ref, x, y);
      if (c < 1) continue;
      const isFace = x >= inner.x && x <= inner.x1 && y >= inner.y && y <= inner.y1;
      const nearFace = x >= box.x - 0.05 * box.width && x <= box.x + 1.05 * box.width && y >= box.y - 0.05 * box.height && y <= box.y + 1.1 * box.height;
      if (isFace) faceC.push({ p: { x, y }, c });
      else if (!nearFace) ringC.push({ p: { x, y }, c });
    }
  }
  const ostep = Math.max(5, Math.round(W / 32));
  for (let y = 8; y < H - 8; y += ostep) {
    for (let x = 8; x < W - 8; x += ostep) {
      if (x >= region.x && x < region.x + region.width && y >= region.y && y < region.y + region.height) continue;
      const c = cornerness(ref, x, y);
      if (c >= MOTION.minOuterCornerness) outerC.push({ p: { x, y }, c });
    }
  }
  const strongest = (a: Array<{ p: Point; c: number }>, n: number) => a.sort((u, v) => v.c - u.c).slice(0, n);
  const tracks: Track[] = [
    ...strongest(faceC, MOTION.maxFacePoints).map((c) => ({ ref: c.p, face: true, err: 0, at: new Map<number, Point>() })),
    ...strongest(ringC, MOTION.maxRingPoints).map((c) => ({ ref: c.p, face: false, err: 0, at: new Map<number, Point>() })),
    ...strongest(outerC, MOTION.maxOuterPoints).map((c) => ({ ref: c.p, face: false, outer: true, err: 0, at: new Map<number, Point>() })),
  ];
  for (const t of tracks) t.err = Math.hypot(MOTION.noiseScale * trackingError(ref, t.ref.x, t.ref.y, sigma), MOTION.noiseFloor);
  const nFace = tracks.filter((t) => t.face).length;
  if (nFace < 10) return { signal: 'motion', applies: false, score: 1, reason: 'too little texture on the face to track', details: { facePoints: nFace } };

  // 3. track reference → each target frame, and back (the reference windows are sampled once)
  const refPts = tracks.map((t) => t.ref);
  const refTemplates = new LKTemplates();
  const pyramids = new Map<number, Pyramid>();
  for (const j of targets) {
    const tgt: Pyramid = buildPyramid(grey(j), 2, opts.arena);
    pyramids.set(j, tgt);
    const fw = trackLK(ref, tgt, refPts, { templates: refTemplates });
    // back-track only the points whose forward track converged (the others are dropped anyway)
    const fwOk: number[] = [];
    for (let k = 0; k < tracks.length; k++) if (fw.ok[k]) fwOk.push(k);
    const bw = trackLK(tgt, ref, fwOk.map((k) => fw.pts[k]!));
    const good: number[] = [];
    for (let i = 0; i < fwOk.length; i++) {
      const k = fwOk[i]!;
      if (!bw.ok[i]) continue;
      const fb = Math.hypot(bw.pts[i]!.x - tracks[k]!.ref.x, bw.pts[i]!.y - tracks[k]!.ref.y);
      if (fb <= MOTION.maxFb) good.push(k);
    }
    // refine with windows warped by the face's homography (translation-only LK is biased under rotation/scale)
    const faceK = good.filter((k) => tracks[k]!.face);
    const coarse = faceK.length >= 10 ? robustFit(faceK.map((k) => tracks[k]!.ref), faceK.map((k) => fw.pts[k]!), 'homography') : null;
    if (coarse) {
      const refined = refineLK(ref, tgt, good.map((k) => tracks[k]!.ref), good.map((k) => fw.pts[k]!), good.map((k) => homographyJacobian(coarse.H, tracks[k]!.ref)));
      good.forEach((k, i) => { if (refined.ok[i]) tracks[k]!.at.set(j, refined.pts[i]!); });
    } else {
      for (const k of good) tracks[k]!.at.set(j, fw.pts[k]!);
    }
  }
  return { tracks, targets, refIndex, box, ref, pyramids, sigma, bin, identicalPairs, nFace };
}

/** The motion signal from the tracks: parallax of the face and rigidity of its surroundings. */
export function motionFromTracking(tr: BurstTracking, nFrames: number): SignalResult {
  const { tracks, targets, sigma, identicalPairs, nFace } = tr;
  const frames = { length: nFrames };
  // 4. per frame: face motion, normalised non-planarity of the face, rigidity of face + surroundings
  const perFrame: Array<{ m: number; q: number; coh: number | null }> = [];
  const tau = 0.35;
  for (const j of targets) {
    const fs: Point[] = [], fd: Point[] = [], fe: number[] = [], rs: Point[] = [], rd: Point[] = [];
    for (const t of tracks) {
      if (t.outer) continue;
      const q = t.at.get(j);
      if (!q) continue;
      if (t.face) { fs.push(t.ref); fd.push(q); fe.push(t.err); } else { rs.push(t.ref); rd.push(q); }
    }
    if (fs.length < 10) continue;
    const m = median(fs.map((p, i) => Math.hypot(fd[i]!.x - p.x, fd[i]!.y - p.y)));
    const fit = robustFit(fs, fd, 'homography');
    if (!fit) continue;
    // residual in units of the predicted tracking error; Rayleigh median is 1.177 for pure noise
    const q = median(fit.residuals.map((r, i) => r / fe[i]!)) / 1.177;
    // do the surroundings follow the face's plane? (a flat picture: yes; a head in a room: no)
    // (tolerance grows with the motion: extrapolating the face's plane to the ring amplifies errors)
    let coh: number | null = null;
    let informative = 0, consistent = 0;
    const tol = Math.max(tau, 0.08 * m);
    for (let i = 0; i < rs.length; i++) {
      const pred = applyH(fit.H, rs[i]!);
      const predMove = Math.hypot(pred.x - rs[i]!.x, pred.y - rs[i]!.y), ownMove = Math.hypot(rd[i]!.x - rs[i]!.x, rd[i]!.y - rs[i]!.y);
      if (predMove < 2 * tau && ownMove < 2 * tau) continue;
      informative++;
      if (Math.hypot(pred.x - rd[i]!.x, pred.y - rd[i]!.y) < tol) consistent++;
    }
    if (informative >= 5) coh = consistent / informative;
    perFrame.push({ m, q, coh });
  }
  if (!perFrame.length) return { signal: 'motion', applies: false, score: 1, reason: 'face points could not be tracked' };
  const maxMotion = Math.max(...perFrame.map((f) => f.m));
  const moving = perFrame.filter((f) => f.m >= MOTION.minMotion);
  const qs = moving.map((f) => f.q);
  const nonPlanar = qs.length ? percentile(qs, 75) : 0;
  const cohs = moving.map((f) => f.coh).filter((c): c is number => c !== null);
  const coherence = cohs.length ? median(cohs) : null;
  const details: Record<string, number | string | boolean> = {
    frames: frames.length, tracked: targets.length, facePoints: nFace, ringPoints: tracks.filter((t) => !t.face && !t.outer).length, imageNoise: round(sigma, 2),
    maxMotion: round(maxMotion, 2), movingFrames: moving.length, nonPlanar: round(nonPlanar, 2),
    coherence: coherence === null ? 'n/a' : round(coherence, 2), identicalPairs,
  };
  return scoreMotion(details, maxMotion, nonPlanar, coherence, moving.length);
}

function scoreMotion(details: Record<string, number | string | boolean>, maxMotion: number, nonPlanar: number, coherence: number | null, movingFrames: number): SignalResult {
  if (maxMotion < MOTION.staticMotion) {
    return { signal: 'motion', applies: true, score: MOTION.staticScore, reason: 'the face did not move during the burst', details, warning: livenessWarning('STATIC_BURST', 'warning', { maxMotion: details.maxMotion }) };
  }
  if (movingFrames === 0) return { signal: 'motion', applies: true, score: 0.7, reason: 'too little motion to test for parallax', details };
  // flatness: no parallax beyond tracking noise, and the surroundings following the face's plane
  const parallax = ramp(nonPlanar, MOTION.flat, MOTION.parallax);
  const rigid = coherence === null ? 0.5 : ramp(coherence, MOTION.independent, MOTION.rigid);
  const flat = Math.min(1 - parallax, rigid);
  const score = clamp01(1 - 0.9 * flat);
  const r: SignalResult = {
    signal: 'motion', applies: true, score: round(score, 3),
    reason: flat < 0.5 ? 'the face moves with parallax or independently of its surroundings' : 'the face and its surroundings move as one flat plane', details,
  };
  if (score < 0.5) r.warning = livenessWarning('FLAT_MOTION', score < 0.2 ? 'error' : 'warning', { nonPlanar: details.nonPlanar, coherence: details.coherence });
  return r;
}

/** Up to n items spread evenly over the list (keeps the first and last). */
function spread<T>(a: readonly T[], n: number): T[] {
  if (a.length <= n) return a.slice();
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(a[Math.round((i * (a.length - 1)) / (n - 1))]!);
  return out;
}

/**
 * Mean absolute difference of the green channel on every 3rd pixel. Only compared with
 * `identicalMad` (its exact value matters only below it), so the sum stops once it must reach it.
 */
function rgbMad(a: RgbImage, b: RgbImage): number {
  let s = 0, n = 0;
  const d = a.data, e = b.data;
  const total = Math.max(0, Math.ceil((d.length - 1) / 9));
  const stop = MOTION.identicalMad * total;
  for (let i = 1; i < d.length; i += 9) {
    s += Math.abs(d[i]! - e[i]!); n++;
    if ((n & 255) === 0 && s >= stop) break;
  }
  return s / Math.max(1, total);
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;
