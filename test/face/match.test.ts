import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare, cosine, createFaceEngine, DEFAULT_THRESHOLDS, DRIFT, enrolTemplate, foldIntoTemplate, LEGACY_MODEL, LEGACY_THRESHOLDS, type FaceAnalysis, type FaceEngine } from '../../src/face/index.ts';
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

  it('drift on real images: a genuine sequence moves the template, within bounds', () => {
    const get = (name: string) => analyses.find((x) => x.file.endsWith(`/${name}.png`))!.a;
    const enrolled = enrolTemplate([get('leonard1')]);
    let t = enrolled;
    let folded = 0;
    for (const n of ['leonard2', 'leonard3', 'leonard4']) {
      const r = compare(t, get(n));
      expect(r.decision).toBe('Approved');
      const next = foldIntoTemplate(t, get(n), r);
      if (next) { t = next; folded++; }
    }
    expect(folded).toBeGreaterThan(0);
    const moved = cosine(t.embedding, enrolled.embedding);
    expect(moved).toBeLessThan(0.999); // it moved
    expect(moved).toBeGreaterThan(0.8); // half the weight stays on the enrolment
    expect(Array.from(t.enrolment!)).toEqual(Array.from(enrolled.embedding));
    // The person's held-out image scores at least as well against the followed template.
    expect(compare(t, get('leonard5')).score).toBeGreaterThanOrEqual(compare(enrolled, get('leonard5')).score);
    // Other people stay below review against the moved template.
    for (const x of analyses.filter((y) => y.id !== 'leonard')) expect(compare(t, x.a).decision).not.toBe('Approved');
    expect(DRIFT.minScore).toBeGreaterThan(DEFAULT_THRESHOLDS.review);
  });

  it('the legacy embedding (asked for) matches the same person and not others, in the old model\'s scale', async () => {
    const [a, b, c] = await Promise.all([['amy', 1], ['amy', 2], ['howard', 1]].map(async ([p, n]) =>
      engine.analyze(await selfieFrame(sharedFaces().find((f) => f.file.endsWith(`/${p}${n}.png`))!.file), { legacyEmbedding: true })));
    expect(a!.legacy!.model).toEqual(LEGACY_MODEL);
    expect(a!.legacy!.embedding).toHaveLength(128);
    const legacyTemplate = { v: 1 as const, model: { ...LEGACY_MODEL }, embedding: a!.legacy!.embedding, created: new Date().toISOString(), quality: { ...a!.face.quality, images: 1 } };
    const same = compare(legacyTemplate, b!);
    expect(same.model).toEqual(LEGACY_MODEL);
    expect(same.threshold).toBe(LEGACY_THRESHOLDS.review);
    expect(same.decision).toBe('Approved');
    expect(compare(legacyTemplate, c!).decision).toBe('Declined');
  });
});
