/**
 * Synthetic ACTIVE_3D answers. Two levels:
 *  - generateActiveTrack: the per-frame landmarks / pose / embedding a face engine would report
 *    (landmarks of the 3D head model projected under the performed head pose, with landmark noise;
 *    pose by the face engine's own estimator), for fast, model-free tests of the validator.
 *  - generateActiveFrames: the rendered frames themselves, for end-to-end runs through the engine.
 * Kinds: a genuine answer; the right turns in the wrong order; too late; a flat photo turned and
 * tilted as a plane following the challenge; a genuine recording made for another challenge; a
 * face swapped mid-way; a still photo.
 */
import { estimatePose } from '../../src/face/geometry.ts';
import { createChallenge, type Active3dChallenge, type Direction } from '../../src/liveness/challenge.ts';
import { normal, pick, seededRng, shuffle, uniform, type Rng } from '../../src/liveness/rng.ts';
import type { PoseSample } from '../../src/liveness/signals/active.ts';
import type { Frame, Point } from '../../src/liveness/types.ts';
import { cloneCanvas } from './canvas.ts';
import { liveMotion } from './generate.ts';
import { buildHead, headLandmarks, type FaceSource, type HeadModel, type HeadPose } from './head.ts';
import { CAM_H, CAM_W, capture, makePerson, randomCamera, renderPerson, renderRoom, skinTone } from './scene.ts';
import { decodeRgb, encodeJpeg } from '../../src/liveness/image.ts';

export const ACTIVE_KINDS = ['bona_fide', 'wrong_order', 'too_late', 'flat_photo', 'replay_other_challenge', 'different_face', 'still_photo'] as const;
export type ActiveKind = (typeof ACTIVE_KINDS)[number];

interface Performance {
  /** Head pose offset (deg) at time t. */
  at(t: number): { yaw: number; pitch: number };
}

const TARGET: Record<Direction, [number, number]> = { left: [1, 0], right: [-1, 0], up: [0, 1], down: [0, -1] };

/** A person performing `dirs` with instructions at `atMs`, reacting after `delay` ms. */
function perform(rng: Rng, dirs: readonly Direction[], atMs: readonly number[], delay: [number, number]): Performance {
  const moves = dirs.map((d, i) => {
    const start = atMs[i]! + uniform(rng, delay[0], delay[1]);
    const rise = uniform(rng, 300, 600), hold = uniform(rng, 450, 800), back = uniform(rng, 300, 500);
    // what people do when asked (whatever the degrees asked): turn left/right by 15–35°, look up by
    // 12–30°, look down less (10–22°)
    const amp = TARGET[d][0] !== 0 ? uniform(rng, 15, 35) : d === 'up' ? uniform(rng, 12, 30) : uniform(rng, 10, 22);
    return { d, start, rise, hold, back, amp };
  });
  return {
    at(t) {
      let yaw = 0, pitch = 0;
      for (const m of moves) {
        let k = 0;
        const u = t - m.start;
        if (u <= 0) k = 0;
        else if (u < m.rise) k = 0.5 - 0.5 * Math.cos((Math.PI * u) / m.rise);
        else if (u < m.rise + m.hold) k = 1;
        else if (u < m.rise + m.hold + m.back) k = 0.5 + 0.5 * Math.cos((Math.PI * (u - m.rise - m.hold)) / m.back);
        yaw += k * m.amp * TARGET[m.d][0];
        pitch += k * m.amp * TARGET[m.d][1];
      }
      return { yaw, pitch };
    },
  };
}

function identityVector(name: string): number[] {
  let h = 2166136261;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  const r = seededRng(h >>> 0);
  const v = Array.from({ length: 128 }, () => normal(r));
  const l = Math.hypot(...v);
  return v.map((x) => x / l);
}

function noisyEmbedding(rng: Rng, v: readonly number[], yaw: number): Float32Array {
  const s = 0.25 + Math.abs(yaw) / 150;
  const e = v.map((x) => x + (s * normal(rng)) / Math.sqrt(128));
  const l = Math.hypot(...e);
  return Float32Array.from(e.map((x) => x / l));
}

function flatHead(h: HeadModel): HeadModel {
  return { ...h, depth: new Float32Array(h.depth.length), nx: new Float32Array(h.nx.length), ny: new Float32Array(h.ny.length), nz: new Float32Array(h.nz.length).fill(1), pivotZ: 0 };
}

interface Plan {
  ch: Active3dChallenge;
  times: number[];
  perf: Performance;
  flat: boolean;
  /** identity per time (face swap), and whether the picture is frozen. */
  identityAt: (t: number) => 0 | 1;
  frozen: boolean;
}

function plan(kind: ActiveKind, rng: Rng, challenge?: Active3dChallenge): Plan {
  const ch = challenge ?? (createChallenge('ACTIVE_3D', rng, 0) as Active3dChallenge);
  const times: number[] = [];
  for (let t = 0; t <= ch.totalTimeoutMs; t += 1000 / ch.fps) times.push(Math.round(t + uniform(rng, -8, 8)));
  times[0] = 0;
  let dirs = ch.steps.map((s) => s.direction);
  const at = ch.steps.map((s) => s.atMs);
  let delay: [number, number] = [250, 650];
  if (kind === 'wrong_order') {
    let alt: Direction[];
    do alt = shuffle(rng, dirs); while (alt.every((d, i) => d === dirs[i]) || alt.some((d, i) => i > 0 && d === alt[i - 1]));
    dirs = alt;
  } else if (kind === 'too_late') delay = [ch.stepTimeoutMs + 200, ch.stepTimeoutMs + 600];
  else if (kind === 'replay_other_challenge') {
    const other = createChallenge('ACTIVE_3D', rng, 0) as Active3dChallenge;
    return { ch, times, perf: perform(rng, other.steps.map((s) => s.direction), other.steps.map((s) => s.atMs), delay), flat: false, identityAt: () => 0, frozen: false };
  }
  const swapAt = kind === 'different_face' ? at[Math.floor(at.length / 2)]! : Infinity;
  return { ch, times, perf: perform(rng, dirs, at, delay), flat: kind === 'flat_photo', identityAt: (t) => (t >= swapAt ? 1 : 0), frozen: kind === 'still_photo' };
}

export interface ActiveTrackSample {
  kind: ActiveKind;
  attack: boolean;
  challenge: Active3dChallenge;
  samples: PoseSample[];
}

/** Landmarks/pose/embedding per frame, as the face engine would report them (no pixels, no model). */
export function generateActiveTrack(kind: ActiveKind, seed: number, faces: readonly FaceSource[], challenge?: Active3dChallenge): ActiveTrackSample {
  const rng = seededRng(seed * 7349 + kind.length * 17 + kind.charCodeAt(0));
  const p = plan(kind, rng, challenge);
  const srcs = [pick(rng, faces.filter((f) => Math.abs(f.pose.yaw) < 15)), pick(rng, faces)];
  if (srcs[1]!.identity === srcs[0]!.identity) srcs[1] = faces.find((f) => f.identity !== srcs[0]!.identity)!;
  const heads = srcs.map((s) => buildHead(s, skinTone(rng)));
  const ids = srcs.map((s) => identityVector(s.identity));
  const base: HeadPose = { yaw: uniform(rng, -5, 5), pitch: uniform(rng, -4, 4), roll: uniform(rng, -4, 4), cx: 320, cy: 220, scale: uniform(rng, 0.9, 1.4), dist: uniform(rng, 3, 5) };
  const micro = liveMotion(rng, uniform(rng, 0.3, 1.2));
  const samples: PoseSample[] = [];
  for (const t of p.times) {
    const who = p.identityAt(t);
    const h = p.flat ? flatHead(heads[who]!) : heads[who]!;
    const off = p.frozen ? { yaw: 0, pitch: 0 } : p.perf.at(t);
    const pose = p.frozen ? base : micro.pose(t, { ...base, yaw: base.yaw + off.yaw, pitch: base.pitch + off.pitch });
    const { landmarks } = headLandmarks(h, pose);
    const ed = Math.hypot(landmarks[45]!.x - landmarks[36]!.x, landmarks[45]!.y - landmarks[36]!.y);
    const lm: Point[] = landmarks.map((q) => ({ x: q.x + normal(rng) * 0.012 * ed, y: q.y + normal(rng) * 0.012 * ed }));
    samples.push({ t, face: { landmarks: lm, pose: estimatePose(lm), embedding: noisyEmbedding(rng, ids[who]!, off.yaw) } });
  }
  return { kind, attack: kind !== 'bona_fide', challenge: p.ch, samples };
}

export interface ActiveFramesSample {
  kind: ActiveKind;
  attack: boolean;
  challenge: Active3dChallenge;
  frames: Frame[];
  /** The head pose offset (deg, relative to the person's own frontal pose) actually rendered in each frame. */
  performed: Array<{ t: number; yaw: number; pitch: number }>;
}

/** Rendered frames of the answer (640×480 JPEG-decoded by default), for runs through the face engine. */
export async function generateActiveFrames(kind: ActiveKind, seed: number, faces: readonly FaceSource[], challenge?: Active3dChallenge, opts: { zoom?: number; jpegQuality?: number } = {}): Promise<ActiveFramesSample> {
  const stream = seed * 7351 + kind.length * 13 + kind.charCodeAt(0);
  const p = plan(kind, seededRng(stream), challenge);
  // The scene (who, in which room, before which camera) has a stream of its own: the same seed is the
  // same person in the same room whatever challenge the server chose, so a test's seed stays the test.
  const rng = seededRng(stream + 0x5eed);
  const zoom = opts.zoom ?? 1;
  const W = Math.round(CAM_W * zoom), H = Math.round(CAM_H * zoom);
  const srcs = [pick(rng, faces.filter((f) => Math.abs(f.pose.yaw) < 15)), pick(rng, faces.filter((f) => Math.abs(f.pose.yaw) < 15))];
  if (srcs[1]!.identity === srcs[0]!.identity) srcs[1] = faces.find((f) => f.identity !== srcs[0]!.identity && Math.abs(f.pose.yaw) < 15)!;
  const people = srcs.map((s) => makePerson(rng, s, { faceWidth: uniform(rng, 160, 220) * zoom, width: W, height: H }));
  if (p.flat) for (const person of people) person.head = flatHead(person.head);
  const room = renderRoom(rng, W, H, {});
  const cam = randomCamera(rng);
  const micro = liveMotion(rng, uniform(rng, 0.3, 1.2));
  const frames: Frame[] = [];
  const performed: ActiveFramesSample['performed'] = [];
  let frozen: Frame['image'] | null = null;
  for (const t of p.times) {
    let img: Frame['image'];
    const off = p.frozen ? { yaw: 0, pitch: 0 } : p.perf.at(t);
    performed.push({ t, yaw: off.yaw, pitch: off.pitch });
    if (p.frozen && frozen) img = frozen;
    else {
      const person = people[p.identityAt(t)]!;
      const pose = micro.pose(t, { ...person.base, yaw: person.base.yaw + off.yaw, pitch: person.base.pitch + off.pitch });
      const c = cloneCanvas(room);
      renderPerson(c, person, pose, micro.body(t));
      img = await decodeRgb(await encodeJpeg(capture(c, cam, rng), opts.jpegQuality ?? 88));
      if (p.frozen) frozen = img;
    }
    frames.push({ image: img, t });
  }
  return { kind, attack: kind !== 'bona_fide', challenge: p.ch, frames, performed };
}
