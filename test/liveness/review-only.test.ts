// The demotion rule of issue 12, item 2: still-image signals that refused real people on real face
// crops (REVIEW_ONLY: screen_moire, print_texture) may send a capture to review, never decline it;
// the signals that kept their decline power still decline. Deterministic (synthetic seed 2).
import { beforeAll, describe, expect, it } from 'vitest';
import { ATTACK_THRESHOLD, REVIEW_ONLY, combine } from '../../src/liveness/combine.ts';
import { passiveLiveness } from '../../src/liveness/passive.ts';
import { moireSignal } from '../../src/liveness/signals/screen.ts';
import { generatePassiveSample, type PassiveSample } from '../synthetic/generate.ts';
import { loadFaceSources } from '../synthetic/head.ts';
import type { SignalName, SignalResult } from '../../src/liveness/types.ts';

const sig = (signal: SignalName, score: number): SignalResult => ({ signal, applies: true, score, reason: 'test' });
const risks = (r: { warnings: { risk: string }[] }) => r.warnings.map((w) => w.risk);

describe('review-only still signals', () => {
  let live: PassiveSample;
  beforeAll(async () => {
    live = await generatePassiveSample('bona_fide', 2, await loadFaceSources());
  }, 60_000);

  it('are the two that failed on real crops', () => {
    expect([...REVIEW_ONLY].sort()).toEqual(['print_texture', 'screen_moire']);
  });

  it('a still whose only finding is a demoted signal is reviewed, not declined', () => {
    for (const method of ['PASSIVE', 'FLASHING', 'ACTIVE_3D'] as const) {
      const r = combine(method, [sig('screen_moire', 0.05), sig('print_texture', 0.4), sig('screen_glare', 1), sig('device_border', 1)]);
      expect(r.attack).toBe(false);
      expect(r.score).toBe(ATTACK_THRESHOLD[method] + 1); // pulled to the top of the decline band, not into it
      expect(r.live).toBe(false);
      expect(risks(r)).toContain('LOW_LIVENESS_SCORE');
      expect(risks(r)).not.toContain('LIVENESS_FACE_ATTACK');
    }
  });

  it('signals that may decline still do, alone or with a demoted one', () => {
    expect(combine('PASSIVE', [sig('device_border', 0.08)]).attack).toBe(true);
    const both = combine('PASSIVE', [sig('device_border', 0.2), sig('screen_moire', 0.05)]);
    expect(both.attack).toBe(true);
    expect(risks(both)[0]).toBe('LIVENESS_FACE_ATTACK');
    // a decisive signal above the attack threshold is not pushed into it by a demoted one
    const weak = combine('PASSIVE', [sig('device_border', 0.45), sig('screen_moire', 0.05)]);
    expect(weak.attack).toBe(false);
    expect(weak.score).toBe(31);
  });

  it('through the still path: a face seen through a pixel grid is reviewed with SCREEN_MOIRE', () => {
    const img = { width: live.still.width, height: live.still.height, data: live.still.data.slice() };
    // the aliased colour grating of test/liveness/signals.test.ts: moiré is the only finding
    for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) for (let k = 0; k < 3; k++) {
      const o = (y * img.width + x) * 3 + k;
      img.data[o] = Math.max(0, Math.min(255, Math.round(img.data[o]! * (1 + 0.05 * Math.cos(2 * Math.PI * (0.29 * x + 0.11 * y + k / 3))))));
    }
    expect(moireSignal(img, live.stillFace).score).toBeLessThan(0.3); // alone it used to decline
    const r = passiveLiveness({ still: img, face: live.stillFace });
    const others = r.signals.filter((s) => s.applies && s.signal !== 'screen_moire');
    expect(others.every((s) => s.score >= 0.9)).toBe(true);
    expect(r.attack).toBe(false);
    expect(r.score).toBeGreaterThan(ATTACK_THRESHOLD.PASSIVE);
    expect(risks(r)).toEqual(expect.arrayContaining(['LOW_LIVENESS_SCORE', 'SCREEN_MOIRE']));
    expect(risks(r)).not.toContain('LIVENESS_FACE_ATTACK');
  });
});
