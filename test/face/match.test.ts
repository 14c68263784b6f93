import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, createFaceEngine, DEFAULT_THRESHOLDS, enrolTemplate, type FaceAnalysis, type FaceEngine } from '../../src/face/index.ts';
import { allPairs, selfieFrame, sharedFaces } from '../../bench/face/common.ts';

// All 40 shared faces, each pasted in a 640×480 frame (as the capture page sends them), analysed once.
let engine: FaceEngine;
const analyses: Array<{ id: string; file: string; a: FaceAnalysis }> = [];

beforeAll(async () => {
  engine = await createFaceEngine({ poolSize: 2, queueLimit: 64 });
  const faces = sharedFaces();
  const results = await Promise.all(faces.map(async (f) => ({ ...f, a: await engine.analyze(await selfieFrame(f.file)) })));
  analyses.push(...results);
}, 120_000);
afterAll(async () => {
  await engine?.close();
});

describe('1:1 comparison on the shared faces', () => {
  it('finds exactly one face in every shared image', () => {
    expect(analyses).toHaveLength(40);
    for (const x of analyses) expect(x.a.otherFaces, x.file).toHaveLength(0);
  });

  it('declines or reviews every impostor pair: no false match at the default threshold', () => {
    const { impostor } = allPairs(analyses);
    expect(impostor).toHaveLength(700);
    const scores = impostor.map(([x, y]) => compare(x.a, y.a).score);
    expect(Math.max(...scores)).toBeLessThanOrEqual(DEFAULT_THRESHOLDS.review);
    expect(scores.filter((s) => s > DEFAULT_THRESHOLDS.decline).length / scores.length).toBeLessThan(0.03);
    expect(scores.reduce((a, b) => a + b, 0) / scores.length).toBeLessThan(50);
  });

  it('approves most genuine pairs and scores them well above impostors', () => {
    const { genuine } = allPairs(analyses);
    expect(genuine).toHaveLength(80);
    const results = genuine.map(([x, y]) => compare(x.a, y.a));
    const approved = results.filter((r) => r.decision === 'Approved').length;
    expect(approved / results.length).toBeGreaterThan(0.85);
    for (const r of results) expect(r.match).toBe(r.decision === 'Approved');
    const sorted = results.map((r) => r.score).sort((a, b) => a - b);
    expect(sorted[40]!).toBeGreaterThan(78); // median
  });

  it('gives the expected decision for named pairs', () => {
    const get = (name: string) => analyses.find((x) => x.file.endsWith(`/${name}.png`))!.a;
    const same = compare(get('raj1'), get('raj4'));
    expect(same.decision).toBe('Approved');
    expect(same.score).toBeGreaterThan(DEFAULT_THRESHOLDS.review);
    expect(same.threshold).toBe(DEFAULT_THRESHOLDS.review);
    const other = compare(get('raj1'), get('penny1'));
    expect(other.decision).toBe('Declined');
    expect(other.match).toBe(false);
    expect(other.similarity).toBeLessThan(0.6);
    // A template enrolled from the four other images of a person matches the fifth.
    const tpl = enrolTemplate(['amy1', 'amy2', 'amy3', 'amy4'].map(get));
    expect(compare(tpl, get('amy5')).decision).toBe('Approved');
    expect(compare(tpl, get('bernadette5')).decision).toBe('Declined');
  });

  it('applies custom thresholds', () => {
    const a = analyses[0]!.a;
    const b = analyses[1]!.a; // same identity, next image
    const s = compare(a, b).score;
    expect(compare(a, b, { review: s - 1, decline: s - 2 }).decision).toBe('Approved');
    expect(compare(a, b, { review: s, decline: s - 1 }).decision).toBe('In Review');
    expect(compare(a, b, { review: s + 1, decline: s }).decision).toBe('Declined');
    expect(() => compare(a, b, { review: 10, decline: 20 })).toThrow(RangeError);
  });
});
