// The liveness pool gives the same verdicts as running PASSIVE in-process, in parallel, and
// answers BUSY when its queue is full instead of growing.
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFrames, decodeRgb, passiveLiveness } from '../../src/liveness/index.ts';
import { LivenessBusyError, LivenessPool } from '../../src/liveness/pool.ts';
import type { PassiveJob } from '../../src/liveness/pool.ts';
import { generatePassiveSample } from '../synthetic/generate.ts';
import { loadFaceSources } from '../synthetic/head.ts';

async function job(kind: 'bona_fide' | 'injected_still', seed: number): Promise<PassiveJob> {
  const faces = (await loadFaceSources()).filter((f) => f.identity === 'amy');
  const s = await generatePassiveSample(kind, seed, faces);
  return {
    still: s.stillJpeg!,
    frames: s.burstJpeg!.map((bytes, i) => ({ bytes, t: Math.round(s.burst[i]!.t - s.burst[0]!.t) })),
    face: s.stillFace,
    captureIndex: s.captureIndex,
  };
}

const pool = new LivenessPool({ size: 2, queueLimit: 2 });
afterAll(() => pool.close());

describe('liveness pool', () => {
  it('answers as the in-process call does, for several jobs in parallel', async () => {
    const jobs = await Promise.all([job('bona_fide', 1), job('injected_still', 1), job('bona_fide', 2), job('injected_still', 2)]);
    const direct = await Promise.all(
      jobs.map(async (j) => passiveLiveness({ still: await decodeRgb(j.still), face: j.face, burst: await decodeFrames(j.frames), captureIndex: j.captureIndex }).score),
    );
    const viaPool: number[] = [];
    for (let i = 0; i < jobs.length; i += 2) viaPool.push(...(await Promise.all(jobs.slice(i, i + 2).map((j) => pool.run(j)))).map((r) => r.score));
    expect(viaPool).toEqual(direct);
    expect(direct[1]!).toBeLessThan(direct[0]!);
  }, 60_000);

  it('refuses with BUSY once its queue is full, and keeps serving', async () => {
    const j = await job('bona_fide', 3);
    const runs = Array.from({ length: 6 }, () => pool.run(j).then(() => 'ok', (e) => (e instanceof LivenessBusyError ? 'busy' : 'error')));
    const outcomes = await Promise.all(runs);
    expect(outcomes.filter((o) => o === 'busy').length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThanOrEqual(2);
    expect(outcomes).not.toContain('error');
    expect((await pool.run(j)).method).toBe('PASSIVE');
  }, 60_000);

  it('runs the worker it is given: the benches\' decode-only worker decodes and judges nothing', async () => {
    const floor = new LivenessPool({ size: 1, workerUrl: new URL('../../bench/verifier/decode-only-worker.ts', import.meta.url) });
    try {
      const still = await job('injected_still', 4);
      expect((await pool.run(still)).attack).toBe(true);
      expect(await floor.run(still)).toMatchObject({ method: 'PASSIVE', score: 100, attack: false, applied: [] });
      const broken = await job('bona_fide', 4);
      await expect(floor.run({ ...broken, frames: [{ bytes: new Uint8Array([1, 2, 3]), t: 0 }] })).rejects.toThrow();
    } finally {
      await floor.close();
    }
  }, 60_000);
});
