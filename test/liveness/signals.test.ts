// Unit tests of the PASSIVE signals on generated inputs: attack and bona fide must separate in the
// right direction by a margin. Inputs come from the synthetic generator (deterministic seeds).
import { beforeAll, describe, expect, it } from 'vitest';
import { passiveLiveness, consistencySignal } from '../../src/liveness/passive.ts';
import { borderSignal } from '../../src/liveness/signals/border.ts';
import { deviceMotionSignal } from '../../src/liveness/signals/device-motion.ts';
import { motionSignal, trackBurst } from '../../src/liveness/signals/motion.ts';
import { glareSignal, moireSignal, printSignal } from '../../src/liveness/signals/screen.ts';
import { generatePassiveSample, type PassiveSample, type SampleKind } from '../synthetic/generate.ts';
import { loadFaceSources, type FaceSource } from '../synthetic/head.ts';
import { parseY4m, writeY4m } from '../../src/liveness/y4m.ts';
import type { GreyImage, RgbImage } from '../../src/liveness/types.ts';
import { buildPyramid, trackLK } from '../../src/liveness/track.ts';
import { seededRng } from '../../src/liveness/rng.ts';
import { median } from '../../src/liveness/image.ts';

let faces: FaceSource[];
const samples = new Map<string, PassiveSample>();
const get = (kind: SampleKind, seed: number) => samples.get(`${kind}/${seed}`)!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const WANT: Array<[SampleKind, number[]]> = [
  ['bona_fide', [1, 2, 3, 4]],
  ['phone_photo', [1, 2, 3]],
  ['print_handheld', [1, 2, 3]],
  ['print_static', [1]],
  ['injected_still', [1]],
  // hand-held replays whose moving phone edges are measurable (calibration seeds)
  ['phone_video', [1, 9, 10]],
  ['phone_photo', [13, 14]],
];

beforeAll(async () => {
  faces = await loadFaceSources();
  for (const [kind, seeds] of WANT) for (const seed of seeds) samples.set(`${kind}/${seed}`, await generatePassiveSample(kind, seed, faces));
}, 120_000);

function copy(img: RgbImage): RgbImage {
  return { width: img.width, height: img.height, data: img.data.slice() };
}

describe('device_border', () => {
  it('finds the frame of a phone or a print around the face, not in a head-and-shoulders scene', () => {
    const bona = WANT[0]![1].map((s) => borderSignal(get('bona_fide', s).still, get('bona_fide', s).stillFace).score);
    const attacks = [...WANT[1]![1].map((s) => get('phone_photo', s)), ...WANT[2]![1].map((s) => get('print_handheld', s))].map((x) => borderSignal(x.still, x.stillFace).score);
    expect(mean(bona)).toBeGreaterThan(0.85);
    expect(mean(attacks)).toBeLessThan(mean(bona) - 0.15);
    expect(Math.min(...attacks)).toBeLessThan(0.5);
  });

  it('scores a phone bezel drawn around the face of a live scene as a device border', () => {
    const s = get('bona_fide', 1);
    const b = s.stillFace.box;
    const img = copy(s.still);
    // a band 10 px wide around the face (0.35 face widths to the sides and below, 0.2 above)
    const x0 = Math.round(b.x - 0.35 * b.width), x1 = Math.round(b.x + 1.35 * b.width);
    const y0 = Math.max(12, Math.round(b.y - 0.2 * b.height)), y1 = Math.round(b.y + 1.35 * b.height);
    for (let y = Math.max(0, y0 - 10); y < Math.min(img.height, y1 + 10); y++) for (let x = Math.max(0, x0 - 10); x < Math.min(img.width, x1 + 10); x++) {
      if (x >= x0 && x < x1 && y >= y0 && y < y1) continue;
      const o = (y * img.width + x) * 3;
      img.data[o] = 200; img.data[o + 1] = 202; img.data[o + 2] = 205; // a silver phone body
    }
    const live = borderSignal(s.still, s.stillFace);
    const framed = borderSignal(img, s.stillFace);
    expect(live.score).toBeGreaterThan(0.85);
    expect(framed.score, JSON.stringify(framed.details)).toBeLessThan(0.2);
    expect(framed.details?.sides).toBe('left+right+top+bottom');
    expect(framed.warning?.risk).toBe('DEVICE_BORDER');
  });

  it('does not apply to a tight face crop', () => {
    const s = get('bona_fide', 1);
    const r = borderSignal(s.still, { box: { x: 5, y: 5, width: s.still.width - 10, height: s.still.height - 10 } });
    expect(r.applies).toBe(false);
    expect(r.reason).toMatch(/tight/);
  });
});

describe('screen_moire', () => {
  it('scores a face seen through a pixel grid (aliased grating) far below the same face without it', () => {
    const s = get('bona_fide', 2);
    const clean = moireSignal(s.still, s.stillFace);
    const img = copy(s.still);
    // a screen's subpixel grid aliased by the camera: a low-contrast colour grating on the face
    for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) {
      for (let k = 0; k < 3; k++) {
        const m = 1 + 0.05 * Math.cos(2 * Math.PI * (0.29 * x + 0.11 * y + k / 3));
        const o = (y * img.width + x) * 3 + k;
        img.data[o] = Math.max(0, Math.min(255, Math.round(img.data[o]! * m)));
      }
    }
    const moire = moireSignal(img, s.stillFace);
    expect(clean.score).toBeGreaterThan(0.9);
    expect(moire.score).toBeLessThan(0.3);
    expect(moire.warning?.risk).toBe('SCREEN_MOIRE');
  });
});

describe('screen_glare and print_texture', () => {
  it('flags a large clipped highlight over the face', () => {
    const s = get('bona_fide', 3);
    const img = copy(s.still);
    const b = s.stillFace.box;
    for (let y = Math.round(b.y); y < b.y + b.height * 0.6; y++) for (let x = Math.round(b.x); x < b.x + b.width * 0.7; x++) {
      const o = (y * img.width + x) * 3;
      img.data[o] = img.data[o + 1] = img.data[o + 2] = 255;
    }
    expect(glareSignal(s.still, s.stillFace).score).toBe(1);
    expect(glareSignal(img, s.stillFace).score).toBeLessThan(0.5);
  });

  it('does not take a clipped bright background around the head (a window behind the user) for glare', () => {
    const s = get('bona_fide', 3);
    const img = copy(s.still);
    const b = s.stillFace.box;
    const cx = b.x + b.width / 2, cy = b.y + b.height / 2;
    // everything outside the face ellipse, out to 1.3 × the box, clipped white
    for (let y = Math.max(0, Math.round(cy - 0.65 * b.height)); y < Math.min(img.height, cy + 0.65 * b.height); y++) {
      for (let x = Math.max(0, Math.round(cx - 0.65 * b.width)); x < Math.min(img.width, cx + 0.65 * b.width); x++) {
        const dx = (x + 0.5 - cx) / (b.width / 2), dy = (y + 0.5 - cy) / (b.height / 2);
        if (dx * dx + dy * dy <= 1.05) continue;
        const o = (y * img.width + x) * 3;
        img.data[o] = img.data[o + 1] = img.data[o + 2] = 255;
      }
    }
    const r = glareSignal(img, s.stillFace);
    expect(r.score, JSON.stringify(r.details)).toBe(1);
    expect(r.warning).toBeUndefined();
  });

  it('scores compressed contrast and dull colour (ink on paper) below the live face', () => {
    const s = get('bona_fide', 4);
    const img = copy(s.still);
    for (let i = 0; i < img.data.length; i += 3) {
      const l = 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!;
      for (let k = 0; k < 3; k++) img.data[i + k] = Math.round(125 + 0.45 * (l + 0.3 * (img.data[i + k]! - l)));
    }
    const live = printSignal(s.still, s.stillFace).score;
    const print = printSignal(img, s.stillFace).score;
    expect(live).toBeGreaterThan(0.9);
    expect(print).toBeLessThan(live - 0.3);
  });
});

describe('motion', () => {
  it('refuses a burst of identical frames (injected still)', () => {
    const s = get('injected_still', 1);
    const r = motionSignal(s.burst, s.burstFace, { captureIndex: s.captureIndex });
    expect(r.score).toBeLessThan(0.05);
    expect(r.warning?.risk).toBe('FROZEN_FRAMES');
  });

  it('calls a burst where the face does not move static', () => {
    const s = get('print_static', 1);
    const r = motionSignal(s.burst, s.burstFace, { captureIndex: s.captureIndex });
    expect(r.warning?.risk).toBe('STATIC_BURST');
    expect(r.score).toBeLessThan(0.5);
  });

  it('separates a head (parallax, independent of the room) from a picture moved as a plane', () => {
    const bona = WANT[0]![1].map((seed) => { const s = get('bona_fide', seed); return motionSignal(s.burst, s.burstFace, { captureIndex: s.captureIndex }).score; });
    const flat = [...WANT[1]![1].map((seed) => get('phone_photo', seed)), ...WANT[2]![1].map((seed) => get('print_handheld', seed))]
      .map((s) => motionSignal(s.burst, s.burstFace, { captureIndex: s.captureIndex }).score);
    expect(Math.min(...bona)).toBeGreaterThan(0.6);
    expect(mean(flat)).toBeLessThan(mean(bona) - 0.3);
  });
});

describe('device_motion', () => {
  const dm = (s: PassiveSample) => {
    const t = trackBurst(s.burst, s.burstFace, { captureIndex: s.captureIndex });
    if ('signal' in t) throw new Error(`not tracked: ${t.reason}`);
    return deviceMotionSignal(s.burst, t);
  };

  it('sees the edges of a hand-held phone move with the face against the room (video and photo replays)', () => {
    for (const [kind, seed] of [['phone_video', 1], ['phone_video', 9], ['phone_video', 10], ['phone_photo', 13], ['phone_photo', 14]] as const) {
      const r = dm(get(kind, seed));
      expect(r.score, `${kind}/${seed}: ${JSON.stringify(r.details)}`).toBeLessThan(0.2);
      expect(r.warning?.risk).toBe('DEVICE_MOTION');
      expect(Number(r.details?.maxShift)).toBeGreaterThan(1);
    }
  });

  it('finds no moving frame in live captures, nor on a print that stands still', () => {
    for (const seed of WANT[0]![1]) {
      const r = dm(get('bona_fide', seed));
      expect(r.score, `bona fide ${seed}: ${JSON.stringify(r.details)}`).toBe(1);
      expect(r.warning).toBeUndefined();
    }
    const st = dm(get('print_static', 1));
    expect(st.score, JSON.stringify(st.details)).toBe(1);
    expect(Number(st.details?.measured)).toBeGreaterThan(0);
    expect(Number(st.details?.maxShift)).toBeLessThan(0.3);
  });

  it('turns a phone-video replay from live into not live in the combination', () => {
    const s = get('phone_video', 9);
    const r = passiveLiveness({ still: s.still, face: s.stillFace, burst: s.burst, captureIndex: s.captureIndex, burstFace: s.burstFace });
    expect(r.applied).toContain('device_motion');
    expect(r.live).toBe(false);
    const motion = r.signals.find((x) => x.signal === 'motion')!;
    expect(motion.score).toBeGreaterThan(0.5); // the recorded person's parallax looks live to the motion signal
  });
});

describe('capture consistency and the combination', () => {
  it('refuses a still that is not the burst\'s capture frame', () => {
    const a = get('bona_fide', 1), b = get('bona_fide', 2);
    expect(consistencySignal(a.still, a.burst[a.captureIndex]!.image).score).toBe(1);
    expect(consistencySignal(b.still, a.burst[a.captureIndex]!.image).score).toBeLessThan(0.1);
  });

  it('gives live sessions a high score and flags attacks', () => {
    for (const seed of WANT[0]![1]) {
      const s = get('bona_fide', seed);
      const r = passiveLiveness({ still: s.still, face: s.stillFace, burst: s.burst, captureIndex: s.captureIndex, burstFace: s.burstFace });
      expect(r.live, `bona fide ${seed}: ${JSON.stringify(r.signals.map((x) => [x.signal, x.score]))}`).toBe(true);
      expect(r.attack).toBe(false);
    }
    const inj = get('injected_still', 1);
    const r = passiveLiveness({ still: inj.still, face: inj.stillFace, burst: inj.burst, captureIndex: inj.captureIndex, burstFace: inj.burstFace });
    expect(r.attack).toBe(true);
    expect(r.warnings[0]!.risk).toBe('LIVENESS_FACE_ATTACK');
    expect(r.score).toBeLessThanOrEqual(30);
  });

  it('judges a still alone on the single-frame signals that apply', () => {
    const s = get('bona_fide', 1);
    const r = passiveLiveness({ still: s.still, face: s.stillFace });
    expect(r.applied).toEqual(expect.arrayContaining(['device_border', 'screen_moire', 'screen_glare', 'print_texture']));
    expect(r.applied).not.toContain('motion');
  });
});

describe('y4m', () => {
  it('round-trips frames (4:2:0) within a few grey levels', () => {
    const s = get('bona_fide', 1);
    const frames = s.burst.slice(0, 3).map((f) => f.image);
    const v = parseY4m(writeY4m(frames, 12.5));
    expect(v.frames).toHaveLength(3);
    expect(v.width).toBe(frames[0]!.width);
    expect(v.fps).toBeCloseTo(12.5, 3);
    let err = 0;
    const a = frames[1]!.data, b = v.frames[1]!.data;
    for (let i = 0; i < a.length; i += 3) err += Math.abs(0.299 * (a[i]! - b[i]!) + 0.587 * (a[i + 1]! - b[i + 1]!) + 0.114 * (a[i + 2]! - b[i + 2]!));
    expect(err / (a.length / 3)).toBeLessThan(3);
    expect(() => parseY4m(Buffer.from('GIF89a...'))).toThrow(/y4m/);
  });
});

describe('tracking under a changing light', () => {
  // The PASSIVE screen light brightens the face by up to ~20 % between burst frames; the trackers
  // assume constant brightness unless each window's gain is matched.
  it('follows a sub-pixel shift of a picture whose brightness changed by 20 %', () => {
    const w = 160, h = 120, rng = seededRng(9);
    const blobs = Array.from({ length: 60 }, () => ({ x: rng.next() * w, y: rng.next() * h, r: 2 + rng.next() * 6, a: 40 + rng.next() * 120 }));
    const render = (dx: number, dy: number, gain: number): GreyImage => {
      const data = new Float32Array(w * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        let v = 60;
        for (const b of blobs) v += b.a * Math.exp(-((x - dx - b.x) ** 2 + (y - dy - b.y) ** 2) / (2 * b.r * b.r));
        data[y * w + x] = Math.min(255, v) * gain;
      }
      return { data, width: w, height: h };
    };
    const ref = buildPyramid(render(0, 0, 1), 2), tgt = buildPyramid(render(1.3, -0.7, 1.2), 2);
    const pts = Array.from({ length: 25 }, (_, i) => ({ x: 30 + (i % 5) * 25, y: 25 + Math.floor(i / 5) * 17 }));
    const { pts: out, ok } = trackLK(ref, tgt, pts);
    const errs = out.map((p, i) => Math.hypot(p.x - pts[i]!.x - 1.3, p.y - pts[i]!.y + 0.7)).filter((_, i) => ok[i]);
    expect(errs.length).toBeGreaterThan(20);
    expect(median(errs)).toBeLessThan(0.1);
  });
});
