/**
 * Hand-held device motion (PASSIVE, burst). A phone or a sheet of paper held in front of the camera
 * moves with the hand's tremor as one rigid plane: its straight edges (bezel, paper edge) shift
 * against the room that is visible beyond them, and the face shown on it shifts with them (a video
 * replay adds the recorded person's own motion, but the whole picture still rides on the device).
 * In a live capture the straight edges near the face belong to the room (door frames, shelves,
 * monitors): they move with the room — not at all, or with the camera's shake, which moves the room
 * beyond them in the same way.
 *
 * For every straight segment beside, above or below the face in the capture frame (the candidate
 * sides of `device_border`), its shift along its normal is measured in each tracked burst frame
 * (1D profile matching at points along it) and compared with the shift of the tracked room points
 * beyond it (on the far side from the face) and with the face's own shift. A side "rides with the
 * face" when it moves against the room well above the measurement noise and the face moves with it.
 */
import { binnedGreyOf, blurGrey, clamp01, median, ramp, sampleGrey } from '../image.ts';
import type { Frame, GreyImage, Point, SignalResult } from '../types.ts';
import { livenessWarning } from '../warnings.ts';
import { classify, findSegments, type Side, type SideHit } from './border.ts';
import type { BurstTracking } from './motion.ts';

export const DEVICE_MOTION = {
  /** Sample points along a segment, half-length of the normal profile (px), minimum edge contrast (grey levels) at a sample. */
  samples: 16,
  profileHalf: 6,
  minContrast: 6,
  /** Room points: at least this many beyond the segment, at least `beyond` px past it. */
  minRoomPoints: 4,
  beyond: 3,
  /** RMS shift of the edge against the room (px at ≈ 320 px): from `still` (moves with the room) to `moving`. */
  still: 0.6,
  moving: 1.2,
  /** …and at least this many times its own measurement noise. */
  snr: 4,
  /**
   * The face rides on the edge's plane: its shift relative to the edge is at most `follow` of the edge's shift against
   * the room (a photo), or it carries at least `carry` of the edge's shift (a video adds the recorded person's motion;
   * rotation of the device moves the edge and the face differently).
   */
  follow: 0.6,
  carry: 0.5,
  /** Scores: sides riding with the face (two or more / one). */
  scoreTwo: 0.1,
  scoreOne: 0.45,
} as const;

interface SideMotion { side: Side; rel: number; noise: number; follow: number; carry: number; frames: number; distance: number }

export function deviceMotionSignal(frames: readonly Frame[], tr: BurstTracking): SignalResult {
  const ref = frames[tr.refIndex]!.image;
  const g = blurGrey(binnedGreyOf(ref, tr.bin), 1);
  const box = tr.box;
  const segs = findSegments(g, 0.45 * Math.min(box.width, box.height));
  const hits = classify(segs, box).sort((a, b) => b.seg.length - a.seg.length).slice(0, 10);
  if (!hits.length) return { signal: 'device_motion', applies: true, score: 1, reason: 'no straight edge near the face', details: { edges: 0 } };
  const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
  const faceTracks = tr.tracks.filter((t) => t.face);
  const bgTracks = tr.tracks.filter((t) => !t.face);
  const measured: SideMotion[] = [];
  let noRoom = 0;
  // room points: beyond the side's line (away from the face); when a side has too few, the points beyond any side
  const lines = hits.map((h) => sideFrame(h, cx, cy));
  const beyondAny = bgTracks.filter((t) => lines.some((l) => l.dist(t.ref) >= DEVICE_MOTION.beyond));
  for (let i = 0; i < hits.length; i++) {
    const own = bgTracks.filter((t) => lines[i]!.dist(t.ref) >= DEVICE_MOTION.beyond);
    const room = own.length >= DEVICE_MOTION.minRoomPoints ? own : beyondAny;
    const m = sideMotion(hits[i]!, lines[i]!, room, tr, faceTracks);
    if (m === 'no-room') { noRoom++; continue; }
    if (m) measured.push(m);
  }
  const riding = measured.filter((m) => rides(m));
  const sides = [...new Set(riding.map((m) => m.side))];
  const strength = riding.length ? Math.max(...riding.map((m) => ramp(m.rel, DEVICE_MOTION.still, DEVICE_MOTION.moving))) : 0;
  const base = sides.length >= 2 ? DEVICE_MOTION.scoreTwo : sides.length === 1 ? DEVICE_MOTION.scoreOne : 1;
  const score = clamp01(1 - (1 - base) * strength);
  const best = measured.slice().sort((a, b) => b.rel - a.rel)[0];
  const details: Record<string, number | string | boolean> = {
    edges: hits.length, measured: measured.length, noRoom, ridingSides: sides.join('+') || 'none',
  };
  if (best) { details.maxShift = round(best.rel); details.maxShiftNoise = round(best.noise); details.maxShiftFollow = round(best.follow); details.maxShiftCarry = round(best.carry); }
  const r: SignalResult = {
    signal: 'device_motion', applies: true, score: round(score, 3),
    reason: sides.length ? `straight edges near the face (${sides.join(', ')}) move with the face against the room` : 'the straight edges near the face stay with the room',
    details,
  };
  if (score < 0.5) r.warning = livenessWarning('DEVICE_MOTION', score < 0.2 ? 'error' : 'warning', { sides });
  return r;
}

function rides(m: SideMotion): boolean {
  return m.rel >= DEVICE_MOTION.still && m.rel >= DEVICE_MOTION.snr * m.noise && (m.follow <= DEVICE_MOTION.follow || m.carry >= DEVICE_MOTION.carry);
}

interface Line { nx: number; ny: number; dist: (p: Point) => number }

/** The side's unit normal pointing away from the face, and the signed distance from its line (positive beyond it). */
function sideFrame(h: SideHit, cx: number, cy: number): Line {
  const s = h.seg;
  const len = Math.hypot(s.x1 - s.x0, s.y1 - s.y0);
  let nx = -(s.y1 - s.y0) / len, ny = (s.x1 - s.x0) / len;
  if ((cx - s.x0) * nx + (cy - s.y0) * ny > 0) { nx = -nx; ny = -ny; }
  return { nx, ny, dist: (p: Point) => (p.x - s.x0) * nx + (p.y - s.y0) * ny };
}

/** Shift of one side against the room beyond it, over the tracked frames; null if the edge cannot be measured. */
function sideMotion(h: SideHit, line: Line, room: BurstTracking['tracks'], tr: BurstTracking, faceTracks: BurstTracking['tracks']): SideMotion | 'no-room' | null {
  const s = h.seg;
  const { nx, ny } = line;
  if (room.length < DEVICE_MOTION.minRoomPoints) return 'no-room';
  const g0 = tr.ref.levels[0]!;
  const R = DEVICE_MOTION.profileHalf;
  // reference profiles at sample points with enough contrast across the edge
  const pts: Array<{ p: Point; prof: Float64Array }> = [];
  for (let k = 0; k < DEVICE_MOTION.samples; k++) {
    const a = 0.1 + (0.8 * k) / (DEVICE_MOTION.samples - 1);
    const p = { x: s.x0 + a * (s.x1 - s.x0), y: s.y0 + a * (s.y1 - s.y0) };
    if (p.x < R + 1 || p.y < R + 1 || p.x > g0.width - R - 2 || p.y > g0.height - R - 2) continue;
    const prof = profile(g0, p, nx, ny, -R, R);
    if (Math.abs(prof[R + 2]! - prof[R - 2]!) < DEVICE_MOTION.minContrast) continue;
    pts.push({ p, prof });
  }
  if (pts.length < 4) return null;
  const rel: number[] = [], relFace: number[] = [], noise: number[] = [];
  for (const j of tr.targets) {
    const tgt = tr.pyramids.get(j)!.levels[0]!;
    const rs: number[] = [], fs: number[] = [];
    for (const t of room) { const q = t.at.get(j); if (q) rs.push((q.x - t.ref.x) * nx + (q.y - t.ref.y) * ny); }
    for (const t of faceTracks) { const q = t.at.get(j); if (q) fs.push((q.x - t.ref.x) * nx + (q.y - t.ref.y) * ny); }
    if (rs.length < DEVICE_MOTION.minRoomPoints || fs.length < 5) continue;
    const dRoom = median(rs), dFace = median(fs);
    const S = Math.min(24, Math.ceil(Math.max(Math.abs(dRoom), Math.abs(dFace))) + 4);
    const shifts: number[] = [];
    for (const { p, prof } of pts) {
      const d = matchShift(tgt, p, nx, ny, prof, S);
      if (d !== null) shifts.push(d);
    }
    if (shifts.length < 4) continue;
    const dEdge = median(shifts);
    const mad = median(shifts.map((v) => Math.abs(v - dEdge))) * 1.4826;
    rel.push(dEdge - dRoom); relFace.push(dFace - dEdge);
    noise.push(mad / Math.sqrt(shifts.length));
  }
  if (rel.length < 2) return null;
  const rms = (a: number[]) => Math.sqrt(a.reduce((x, v) => x + v * v, 0) / a.length);
  const r = rms(rel);
  // share of the edge's motion (against the room) that the face carries too: 1 when the face rides on the edge's plane
  let num = 0, den = 0;
  for (let i = 0; i < rel.length; i++) { num += rel[i]! * (rel[i]! + relFace[i]!); den += rel[i]! * rel[i]!; }
  return { side: h.side, rel: r, noise: rms(noise) + 0.05, follow: rms(relFace) / Math.max(1e-6, r), carry: num / Math.max(1e-9, den), frames: rel.length, distance: h.distance };
}

function profile(g: GreyImage, p: Point, nx: number, ny: number, a: number, b: number): Float64Array {
  const out = new Float64Array(b - a + 1);
  for (let s = a; s <= b; s++) out[s - a] = sampleGrey(g, p.x + s * nx, p.y + s * ny);
  return out;
}

/** Shift (px along the normal) of the reference profile in the target: integer SSD search in ±S, parabolic refinement. */
function matchShift(g: GreyImage, p: Point, nx: number, ny: number, prof: Float64Array, S: number): number | null {
  const R = (prof.length - 1) / 2;
  const q = profile(g, p, nx, ny, -R - S, R + S);
  let best = -1, bestV = Infinity;
  const ssd = new Float64Array(2 * S + 1);
  for (let d = -S; d <= S; d++) {
    let v = 0;
    for (let i = 0; i < prof.length; i++) { const e = prof[i]! - q[i + S + d]!; v += e * e; }
    ssd[d + S] = v;
    if (v < bestV) { bestV = v; best = d; }
  }
  if (best === -S || best === S) return null;
  const a = ssd[best + S - 1]!, b = ssd[best + S]!, c = ssd[best + S + 1]!;
  const den = a - 2 * b + c;
  return best + (den > 1e-9 ? (0.5 * (a - c)) / den : 0);
}

const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;
