/**
 * Our pyramidal Lucas–Kanade tracker (src/liveness/track.ts) against OpenCV's calcOpticalFlowPyrLK
 * (@techstark/opencv-js, OpenCV 4.12 compiled to WebAssembly: the maintained package that has one),
 * on what the motion signal runs per burst frame: 320×240 grey frames, 120 points, a 2-level
 * pyramid, a 15×15 window, 12 iterations, tracked forward into the frame and back.
 * The frames are one analytic texture under a known similarity motion with camera noise, so both
 * trackers are checked against the true positions (and each other) before they are timed.
 *   npm install --no-save @techstark/opencv-js@4.12.0-release.1
 *   nice -n 10 node bench/libraries/tracker.ts
 */
import { buildPyramid, cornerness, LKTemplates, TRACK_HALF, trackLK } from '../../src/liveness/track.ts';
import { normal, seededRng } from '../../src/liveness/rng.ts';
import type { GreyImage, Point } from '../../src/liveness/types.ts';
import { fmt, msPerCall, optional } from './common.ts';

let cv = optional('@techstark/opencv-js', '@techstark/opencv-js@4.12.0-release.1');
if (cv instanceof Promise) cv = await cv;
else if (!cv.Mat) await new Promise<void>((r) => { cv.onRuntimeInitialized = r; });

const W = 320, H = 240; // MOTION.workWidth; 640×480 capture frames binned by 2
const NPTS = 120; // maxFacePoints + maxRingPoints + maxOuterPoints in src/liveness/signals/motion.ts
const rng = seededRng(11);

// texture: Gaussian blobs and a few gratings, smooth enough to be sampled anywhere
const blobs = Array.from({ length: 160 }, () => ({ x: rng.next() * W, y: rng.next() * H, s: 2.5 + rng.next() * 9, a: (rng.next() - 0.5) * 120 }));
const waves = Array.from({ length: 12 }, () => ({ fx: (rng.next() - 0.5) / 6, fy: (rng.next() - 0.5) / 6, p: rng.next() * 6.28, a: 8 * rng.next() }));
function texture(x: number, y: number): number {
  let v = 128;
  for (const b of blobs) { const dx = x - b.x, dy = y - b.y; v += b.a * Math.exp(-(dx * dx + dy * dy) / (2 * b.s * b.s)); }
  for (const w of waves) v += w.a * Math.sin(2 * Math.PI * (w.fx * x + w.fy * y) + w.p);
  return v;
}
// motion ref → target: rotate 1.2°, scale 1.015 about the centre, shift (1.7, −0.9) px
const th = (1.2 * Math.PI) / 180, sc = 1.015, tx = 1.7, ty = -0.9, cx = W / 2, cy = H / 2;
const fwd = (p: Point): Point => {
  const x = p.x - cx, y = p.y - cy;
  return { x: cx + tx + sc * (Math.cos(th) * x - Math.sin(th) * y), y: cy + ty + sc * (Math.sin(th) * x + Math.cos(th) * y) };
};
const inv = (q: Point): Point => {
  const x = (q.x - cx - tx) / sc, y = (q.y - cy - ty) / sc;
  return { x: cx + Math.cos(th) * x + Math.sin(th) * y, y: cy - Math.sin(th) * x + Math.cos(th) * y };
};
function frame(map: (q: Point) => Point, gain = 1): Uint8Array {
  const out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const p = map({ x, y });
    out[y * W + x] = Math.max(0, Math.min(255, Math.round(gain * texture(p.x, p.y) + 2 * normal(rng))));
  }
  return out;
}
const ref8 = frame((q) => q);
// the same motion with the face 25 % brighter in the target (PASSIVE screen light, auto-exposure)
const lit8 = frame(inv, 1.25);
let tgt8 = frame(inv);
const grey = (d: Uint8Array): GreyImage => ({ data: Float32Array.from(d), width: W, height: H });

// points: a grid, the most trackable ones (as motion.ts picks them)
const refPyr = buildPyramid(grey(ref8), 2);
const cands: Array<{ p: Point; c: number }> = [];
for (let y = 16; y < H - 16; y += 7) for (let x = 16; x < W - 16; x += 7) { const c = cornerness(refPyr, x, y); if (c >= 1) cands.push({ p: { x, y }, c }); }
const pts = cands.sort((a, b) => b.c - a.c).slice(0, NPTS).map((c) => c.p);
const truth = pts.map(fwd);

// ours, per target frame: its pyramid, forward track (reference windows cached), back track
const tpl = new LKTemplates();
function ours(): { fw: Point[]; ok: boolean[]; bw: Point[] } {
  const tgt = buildPyramid(grey(tgt8), 2);
  const f = trackLK(refPyr, tgt, pts, { templates: tpl });
  const b = trackLK(tgt, refPyr, f.pts);
  return { fw: f.pts, ok: f.ok.map((o, i) => o && b.ok[i]!), bw: b.pts };
}

// OpenCV: the same window, levels and iterations; it builds both pyramids on every call
const refMat = cv.matFromArray(H, W, cv.CV_8UC1, ref8);
const ptsMat = cv.matFromArray(pts.length, 1, cv.CV_32FC2, pts.flatMap((p) => [p.x, p.y]));
const win = new cv.Size(2 * TRACK_HALF + 1, 2 * TRACK_HALF + 1);
const crit = new cv.TermCriteria(cv.TermCriteria_COUNT + cv.TermCriteria_EPS, 12, 0.01);
function opencv(): { fw: Point[]; ok: boolean[]; bw: Point[] } {
  const tgtMat = cv.matFromArray(H, W, cv.CV_8UC1, tgt8);
  const next = new cv.Mat(), st = new cv.Mat(), err = new cv.Mat(), back = new cv.Mat(), st2 = new cv.Mat(), err2 = new cv.Mat();
  cv.calcOpticalFlowPyrLK(refMat, tgtMat, ptsMat, next, st, err, win, 1, crit);
  cv.calcOpticalFlowPyrLK(tgtMat, refMat, next, back, st2, err2, win, 1, crit);
  const f = next.data32F as Float32Array, b = back.data32F as Float32Array;
  const res = {
    fw: pts.map((_, i) => ({ x: f[2 * i]!, y: f[2 * i + 1]! })),
    bw: pts.map((_, i) => ({ x: b[2 * i]!, y: b[2 * i + 1]! })),
    ok: pts.map((_, i) => st.data[i] === 1 && st2.data[i] === 1),
  };
  for (const m of [tgtMat, next, st, err, back, st2, err2]) m.delete();
  return res;
}

const q = (a: number[], p: number) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))]!; };
const dist = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);
const A = ours(), B = opencv();
const both = pts.map((_, i) => i).filter((i) => A.ok[i] && B.ok[i]);
const errA = both.map((i) => dist(A.fw[i]!, truth[i]!)), errB = both.map((i) => dist(B.fw[i]!, truth[i]!)), diff = both.map((i) => dist(A.fw[i]!, B.fw[i]!));
const fbA = both.map((i) => dist(A.bw[i]!, pts[i]!)), fbB = both.map((i) => dist(B.bw[i]!, pts[i]!));
console.log(`${pts.length} points, converged: ours ${A.ok.filter(Boolean).length}, OpenCV ${B.ok.filter(Boolean).length}`);
console.log(`error against the true motion (px), median / 90th percentile: ours ${q(errA, 0.5).toFixed(3)} / ${q(errA, 0.9).toFixed(3)}, OpenCV ${q(errB, 0.5).toFixed(3)} / ${q(errB, 0.9).toFixed(3)}`);
console.log(`forward–backward error (px), median: ours ${q(fbA, 0.5).toFixed(3)}, OpenCV ${q(fbB, 0.5).toFixed(3)}; ours vs OpenCV, median ${q(diff, 0.5).toFixed(3)} px`);
const tol = 0.1;
if (!(q(diff, 0.5) < tol)) { console.error(`the trackers disagree (median ${q(diff, 0.5)} px > ${tol} px)`); process.exit(1); }
{
  const plain = tgt8;
  tgt8 = lit8;
  const C = ours(), D = opencv();
  tgt8 = plain;
  const ok = pts.map((_, i) => i).filter((i) => C.ok[i] && D.ok[i]);
  const eC = ok.map((i) => dist(C.fw[i]!, truth[i]!)), eD = ok.map((i) => dist(D.fw[i]!, truth[i]!));
  console.log(`target 25 % brighter: converged ours ${C.ok.filter(Boolean).length}, OpenCV ${D.ok.filter(Boolean).length}; error median / 90th percentile: ours ${q(eC, 0.5).toFixed(3)} / ${q(eC, 0.9).toFixed(3)}, OpenCV ${q(eD, 0.5).toFixed(3)} / ${q(eD, 0.9).toFixed(3)} px`);
}

const tOurs = msPerCall(ours, 21, 10), tCv = msPerCall(opencv, 21, 10);
const tOursTrack = msPerCall(() => { const tgt = buildPyramid(grey(tgt8), 2); trackLK(refPyr, tgt, pts, { templates: tpl }); }, 21, 10);
const tOursPyr = msPerCall(() => buildPyramid(grey(tgt8), 2), 21, 10);
console.log('| per burst frame (320×240, 120 points) | ms per call (median of 21 runs) |\n| --- | --- |');
console.log(`| ours: pyramid + forward + backward | ${fmt(tOurs)} |`);
console.log(`| ours: pyramid + forward | ${fmt(tOursTrack)} |`);
console.log(`| ours: pyramid only (blur σ 1.5, 2 levels, Scharr) | ${fmt(tOursPyr)} |`);
console.log(`| OpenCV 4.12 wasm calcOpticalFlowPyrLK: forward + backward (its own pyramids) | ${fmt(tCv)} |`);
refMat.delete(); ptsMat.delete();
