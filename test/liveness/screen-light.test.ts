// screen_light (experiment): the face's brightness follows the screen's light pattern on a live
// face, not on a replay shown on an emissive screen. Calibration seeds only.
import { beforeAll, describe, expect, it } from 'vitest';
import { randomScreenPattern, screenLightSignal } from '../../src/liveness/signals/screen-light.ts';
import { seededRng } from '../../src/liveness/rng.ts';
import { generatePassiveSample, SCREEN_LIGHT, type SampleKind } from '../../src/liveness/synthetic/generate.ts';
import { loadFaceSources, type FaceSource } from '../../src/liveness/synthetic/head.ts';

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

describe('screen_light', () => {
  it('patterns change at most every 2 frames and use both levels', () => {
    const rng = seededRng(5);
    for (let k = 0; k < 200; k++) {
      const p = randomScreenPattern(rng);
      expect(p).toHaveLength(12);
      expect(p.filter((v) => v === 1).length).toBeGreaterThanOrEqual(3);
      expect(p.filter((v) => v === 0).length).toBeGreaterThanOrEqual(3);
      const runs: number[] = [];
      let len = 1;
      for (let i = 1; i < p.length; i++) { if (p[i] === p[i - 1]) len++; else { runs.push(len); len = 1; } }
      runs.push(len);
      expect(runs.length).toBeGreaterThanOrEqual(3);
      expect(Math.min(...runs)).toBeGreaterThanOrEqual(2);
    }
  });

  // the same light (pattern and level) on a live face and on replays; mid-range level
  it('a live face lit by the screen scores high', async () => {
    for (const seed of SEEDS) expect(await score('bona_fide', seed, MID)).toBeGreaterThan(0.8);
  }, 60_000);

  it('a video replay on a phone or a monitor under the same light scores low', async () => {
    for (const seed of SEEDS) {
      expect(await score('phone_video', seed, MID)).toBeLessThan(0.3);
      expect(await score('monitor_video', seed, MID)).toBeLessThan(0.3);
    }
  }, 60_000);

  it('a video replay on a phone or a monitor scores low at the strongest light', async () => {
    for (const seed of SEEDS) {
      expect(await score('phone_video', seed, HIGH)).toBeLessThan(0.3);
      expect(await score('monitor_video', seed, HIGH)).toBeLessThan(0.3);
    }
  }, 60_000);

  it('without the light a live face does not follow the pattern', async () => {
    const pattern = randomScreenPattern(seededRng(3 * 31 + 17));
    const s = await generatePassiveSample('bona_fide', 3, faces, { screenLight: { pattern, gain: 0 } });
    expect(screenLightSignal(s.burst, s.burstFace, pattern).score).toBeLessThan(0.3);
  }, 60_000);

  it('does not apply to a constant pattern', async () => {
    const s = await generatePassiveSample('bona_fide', 3, faces);
    const r = screenLightSignal(s.burst, s.burstFace, new Array(12).fill(1));
    expect(r.applies).toBe(false);
  }, 60_000);
});
