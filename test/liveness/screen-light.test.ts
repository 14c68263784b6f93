// PASSIVE screen light: the face's brightness follows the screen's light pattern on a live face,
// not on a replay shown on an emissive screen (screen_light); a face lit by it is shaded like a 3D
// surface, a print like paper (light_shading); the room beside a live face is not lit by it, the
// paper around a printed face is (light_falloff). Calibration seeds only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHALLENGES_PER_SESSION, isIssuableScreenPattern, laggedPattern, randomScreenPattern, SCREEN_LIGHT_SIGNAL, screenLightFromSeries, screenLightMaxRank, screenLightSignal, screenPatternSet } from '../../src/liveness/signals/screen-light.ts';
import { normal } from '../../src/liveness/rng.ts';
import { faceRegistration, lightSignals } from '../../src/liveness/signals/light-shading.ts';
import { scaleBox } from '../../src/liveness/image.ts';
import { createFaceEngine, type FaceEngine } from '../../src/face/index.ts';
import { passiveLiveness } from '../../src/liveness/passive.ts';
import { deviceMotionSignal } from '../../src/liveness/signals/device-motion.ts';
import { motionFromTracking, trackBurst } from '../../src/liveness/signals/motion.ts';
import { createChallenge } from '../../src/liveness/challenge.ts';
import { seededRng } from '../../src/liveness/rng.ts';
import { generatePassiveSample, SCREEN_LIGHT, type SampleKind } from '../synthetic/generate.ts';
import { loadFaceSources, type FaceSource } from '../synthetic/head.ts';

let faces: FaceSource[];
beforeAll(async () => { faces = await loadFaceSources(); }, 60_000);

const SEEDS = [3, 11];
// (at the weakest level, 0.0375, a live face in a bright room reaches only ~2.5–3% and scores in the
// ramp or below: see bench/liveness/screen-light.ts --gain 0.0375)
const MID = 0.1, HIGH = SCREEN_LIGHT.gain[1];

async function score(kind: SampleKind, seed: number, gain: number): Promise<number> {
  const pattern = randomScreenPattern(seededRng(seed * 31 + 17));
  const s = await generatePassiveSample(kind, seed, faces, { screenLight: { pattern, gain } });
  return screenLightSignal(s.burst, s.burstFace, pattern).score;
}

/**
 * A session rendered under a pattern, its face placed as the verifier places it (the face engine's
 * box on the still, scaled to the burst: larger than the generator's, hair and background included),
 * and the three light signals as passiveLiveness runs them.
 */
async function lit(kind: SampleKind, seed: number, gain = MID) {
  const pattern = randomScreenPattern(seededRng(seed * 31 + 17));
  const s = await generatePassiveSample(kind, seed, faces, { screenLight: { pattern, gain } });
  const a = await (engine ??= createFaceEngine({ poolSize: 1 })).then((e) => e.analyze(s.stillJpeg!));
  const face = { box: scaleBox(a.face.box, s.burst[0]!.image.width / s.still.width) };
  const offsets = faceRegistration(s.burst, face, s.captureIndex);
  const sl = screenLightSignal(s.burst, face, pattern, offsets);
  const [shading, falloff] = lightSignals(s.burst, face, pattern, sl.details.lag, s.captureIndex, offsets);
  return { s, pattern, sl, shading: shading!, falloff: falloff!, stillFace: { box: a.face.box, landmarks: a.face.landmarks } };
}
let engine: Promise<FaceEngine> | undefined;
afterAll(async () => { await (await engine)?.close(); });

describe('screen_light', () => {
  // Properties over EVERY pattern the server can issue (the set is enumerated, so these do not depend
  // on which pattern a random draw would give)
  const all = screenPatternSet();
  const changesWithin = (p: readonly number[], span: number): number => {
    const seen = [1, ...p, 1], at: number[] = [];
    for (let k = 0; k + 1 < seen.length; k++) if (seen[k] !== seen[k + 1]) at.push(k);
    return Math.max(...at.map((a) => at.filter((b) => b >= a && b - a <= span).length));
  };

  it('every issuable pattern: 18 frames ending on 2 white ones, both levels on 4 frames or more, 4 changes or more, never over 6 changes (3 flashes) in a second', () => {
    expect(all.list.length).toBe(15260);
    for (const p of all.list) {
      expect(p).toHaveLength(18);
      // the white tail: the last free frame's light reaches the recording at every lag searched (0–2 frames)
      expect(p.slice(16)).toEqual([1, 1]);
      expect(p.filter((v) => v === 1).length).toBeGreaterThanOrEqual(4);
      expect(p.filter((v) => v === 0).length).toBeGreaterThanOrEqual(4);
      expect(p.slice(1).filter((v, i) => v !== p[i]).length).toBeGreaterThanOrEqual(4);
      // 12 intervals of 80 ms = 960 ms fit in a second, 13 do not; rest white before and after
      expect(changesWithin(p, 12)).toBeLessThanOrEqual(6);
      // frames fully under each level at any searched lag, for light_shading / light_falloff
      expect(p.slice(1).filter((v, i) => v === 1 && p[i] === 1).length).toBeGreaterThanOrEqual(3);
      expect(p.slice(1).filter((v, i) => v === 0 && p[i] === 0).length).toBeGreaterThanOrEqual(3);
    }
    // and the server draws from exactly this set
    const rng = seededRng(5);
    for (let k = 0; k < 200; k++) expect(all.index.has(randomScreenPattern(rng).join(''))).toBe(true);
    expect(isIssuableScreenPattern([0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1])).toBe(false); // 8 changes in a second
    expect(isIssuableScreenPattern([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0])).toBe(false); // no white tail
    expect(isIssuableScreenPattern([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1])).toBe(true);
  });

  it('the chance bound: credit only in the top 1/3000 of the issuable patterns (3 challenges a session: 1/1000); a clean response ranks its own pattern there', () => {
    const maxRank = screenLightMaxRank(all.list.length);
    expect(maxRank).toBe(5);
    expect(maxRank / all.list.length).toBeLessThanOrEqual(1e-3 / 3);
    expect(CHALLENGES_PER_SESSION * maxRank / all.list.length).toBeLessThanOrEqual(1e-3);
    // a recording that does not depend on the pattern, against ALL issuable patterns: at most maxRank
    // of them give it any credit, whatever the recording (noise, or a genuine answer to another pattern)
    const rng = seededRng(11);
    const noise = Array.from({ length: 18 }, () => 120 + 3.6 * normal(rng));
    const other = laggedPattern(all.list[1234]!, 1).map((v) => 120 * (1 + 0.05 * v));
    for (const y of [noise, other]) {
      let credited = 0;
      for (const p of all.list) if (screenLightFromSeries(y, p).score > 0.03) credited++;
      expect(credited).toBeLessThanOrEqual(maxRank);
    }
    // a face lit by the pattern: ranked first-ish by its own clean response at every searched lag
    // (a seeded sample of 100 patterns; the ranking itself is exhaustive)
    const pick = seededRng(7);
    for (let k = 0; k < 100; k++) {
      const p = all.list[Math.floor(pick.next() * all.list.length)]!;
      for (const lag of [0, 1, 2]) {
        const r = screenLightFromSeries(laggedPattern(p, lag).map((v) => 120 * (1 + 0.1 * v)), p);
        expect(r.details.rank).toBeLessThanOrEqual(maxRank);
        expect(r.score).toBeGreaterThan(0.5);
      }
    }
  }, 60_000);

  // the same light (pattern and level) on a live face and on replays; mid-range level
  it('a live face lit by the screen scores high', async () => {
    for (const seed of SEEDS) expect(await score('bona_fide', seed, MID)).toBeGreaterThan(0.8);
  }, 60_000);

  // screen_light alone lets a faint glass reflection through at the strongest light; the light
  // signals together (shading of the response, the surface beside the face) do not
  const lightEvidence = async (kind: SampleKind, seed: number, gain: number): Promise<number> => {
    const { sl, shading, falloff } = await lit(kind, seed, gain);
    return sl.score * (shading.applies ? shading.score : 1) * (falloff.applies ? falloff.score : 1);
  };

  it('a video replay on a phone or a monitor under the same light is not lit like a face', async () => {
    for (const seed of [5, 11, 13]) {
      expect(await lightEvidence('phone_video', seed, MID)).toBeLessThan(0.3);
      expect(await lightEvidence('monitor_video', seed, MID)).toBeLessThan(0.3);
    }
  }, 180_000);

  // At the strongest light a glass reflection reaches the bottom of the amplitude ramp (1.2–2.5 %):
  // the light evidence stays faint (below half credit) and the session is not live. (With the 16-frame
  // patterns all six were below 0.3; under the 18-frame pattern of its seed one phone replay reads
  // 1.6 %, light evidence 0.31: the threshold is not moved for it, the decision below is what counts.)
  it('a video replay on a phone or a monitor is not lit like a face at the strongest light either', async () => {
    for (const kind of ['phone_video', 'monitor_video'] as const) {
      for (const seed of [5, 11, 13]) {
        const { s, pattern, sl, shading, falloff, stillFace } = await lit(kind, seed, HIGH);
        expect(sl.score * (shading.applies ? shading.score : 1) * (falloff.applies ? falloff.score : 1)).toBeLessThan(0.5);
        const r = passiveLiveness({ still: s.still, face: stillFace, burst: s.burst, captureIndex: s.captureIndex, screenPattern: pattern });
        expect(r.live).toBe(false);
      }
    }
  }, 240_000);

  it('without the light a live face does not follow the pattern', async () => {
    const pattern = randomScreenPattern(seededRng(3 * 31 + 17));
    const s = await generatePassiveSample('bona_fide', 3, faces, { screenLight: { pattern, gain: 0 } });
    expect(screenLightSignal(s.burst, s.burstFace, pattern).score).toBeLessThan(0.3);
  }, 60_000);

  it('does not apply to a constant pattern', async () => {
    const s = await generatePassiveSample('bona_fide', 3, faces);
    const r = screenLightSignal(s.burst, s.burstFace, new Array(s.burst.length).fill(1));
    expect(r.applies).toBe(false);
  }, 60_000);
});

describe('light_shading and light_falloff', () => {
  it('a live face: shaded like a 3D surface, the room beside it unlit', async () => {
    for (const seed of [3, 5, 12]) {
      const { shading, falloff } = await lit('bona_fide', seed);
      expect(shading).toMatchObject({ signal: 'light_shading', applies: true });
      expect(shading.score).toBeGreaterThan(0.9);
      expect(falloff).toMatchObject({ signal: 'light_falloff', applies: true });
      expect(falloff.score).toBeGreaterThan(0.9);
    }
  }, 90_000);

  it('a print on a stand: lit evenly, and where the paper reaches beside the face, lit there as much as the face', async () => {
    for (const seed of [5, 7, 8, 13]) {
      const { sl, shading, falloff } = await lit('print_static', seed);
      expect(sl.score).toBeGreaterThan(0.8); // paper reflects the light as skin does: screen_light cannot tell
      expect(shading.score).toBeLessThan(0.2);
      expect(shading.warning?.risk).toBe('FLAT_SHADING');
      if (seed === 8 || seed === 13) {
        expect(falloff.score).toBeLessThan(0.2);
        expect(falloff.warning?.risk).toBe('LIGHT_MISMATCH');
      }
    }
  }, 90_000);

  it('does not apply when the pattern never reaches the face (too few lit or dark frames)', async () => {
    const { s } = await lit('bona_fide', 3);
    const [shading, falloff] = lightSignals(s.burst, s.burstFace, new Array(s.burst.length).fill(1), 0, s.captureIndex);
    expect(shading!.applies).toBe(false);
    expect(falloff!.applies).toBe(false);
  }, 60_000);
});

describe('PASSIVE with the screen-light pattern', () => {
  it('a live face stays live; a video replay on a phone is refused as an attack', async () => {
    const live = await lit('bona_fide', 3);
    const r = passiveLiveness({ still: live.s.still, face: live.stillFace, burst: live.s.burst, captureIndex: live.s.captureIndex, screenPattern: live.pattern });
    expect(r.applied).toEqual(expect.arrayContaining(['screen_light', 'light_shading', 'light_falloff']));
    expect(r.live).toBe(true);
    const replay = await lit('phone_video', 11);
    const a = passiveLiveness({ still: replay.s.still, face: replay.stillFace, burst: replay.s.burst, captureIndex: replay.s.captureIndex, screenPattern: replay.pattern });
    expect(a.attack).toBe(true);
    expect(a.signals.find((x) => x.signal === 'screen_light')!.score).toBeLessThan(0.3);
    // without the pattern the signals are not run (workflows with the screen light off)
    const off = passiveLiveness({ still: live.s.still, face: live.stillFace, burst: live.s.burst, captureIndex: live.s.captureIndex });
    expect(off.applied).not.toContain('screen_light');
  }, 90_000);

  it('gives an analysis the same result whatever ran before it in the thread (working buffers are reused)', async () => {
    // a live face, then a replay of another size and kind, then the live face again: the
    // pyramids, summed-area tables and edge buffers kept between analyses must not carry over
    const live = await lit('bona_fide', 3), replay = await lit('phone_video', 11);
    const run = (x: typeof live) => passiveLiveness({ still: x.s.still, face: x.stillFace, burst: x.s.burst, burstFace: x.s.burstFace, captureIndex: x.s.captureIndex, screenPattern: x.pattern });
    const strip = (r: ReturnType<typeof run>) => ({ ...r, ms: 0 });
    const first = strip(run(live));
    const other = strip(run(replay));
    expect(strip(run(live))).toEqual(first);
    expect(strip(run(replay))).toEqual(other);
    expect(other.score).not.toBe(first.score);
    // and the same as the tracking on freshly allocated pyramids (no arena) gives
    for (const [x, r] of [[live, first], [replay, other]] as const) {
      const tracking = trackBurst(x.s.burst, x.s.burstFace, { captureIndex: x.s.captureIndex });
      if ('signal' in tracking) throw new Error(tracking.reason);
      expect(r.signals.find((v) => v.signal === 'motion')).toEqual(motionFromTracking(tracking, x.s.burst.length));
      expect(r.signals.find((v) => v.signal === 'device_motion')).toEqual(deviceMotionSignal(x.s.burst, tracking));
    }
  }, 90_000);

  it('the server-chosen pattern: 18 frames, crypto-random, issuable', () => {
    const a = createChallenge('PASSIVE'), b = createChallenge('PASSIVE');
    expect(a.id).not.toBe(b.id);
    for (const ch of [a, b]) {
      expect(ch).toMatchObject({ method: 'PASSIVE', frames: 18, intervalMs: 80, captureIndex: 9 });
      expect(isIssuableScreenPattern(ch.pattern)).toBe(true);
    }
  });
});
