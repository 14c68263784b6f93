import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  compare, cosine, DEFAULT_THRESHOLDS, DRIFT, EMBEDDING_SIZE, enrolTemplate, FaceError, foldIntoTemplate, LEGACY_EMBEDDING_SIZE, LEGACY_MODEL,
  LEGACY_THRESHOLDS, migrateTemplate, MODEL, openTemplate, sealTemplate, templateKeyId,
  type FaceAnalysis, type FaceTemplate, type TemplateKeyring,
} from '../../src/face/index.ts';

function unit(seed: number, size = EMBEDDING_SIZE): Float32Array {
  // Deterministic pseudo-random unit vector.
  const v = new Float32Array(size);
  let x = seed;
  for (let i = 0; i < v.length; i++) { x = (x * 1103515245 + 12345) % 2147483648; v[i] = x / 2147483648 - 0.5; }
  const n = Math.hypot(...v);
  return v.map((e) => e / n);
}

function analysis(embedding: Float32Array, sharpness = 100): FaceAnalysis {
  return {
    image: { width: 640, height: 480, format: 'jpeg' },
    face: {
      box: { x: 200, y: 120, width: 240, height: 240 }, score: 0.9, landmarks: [],
      pose: { yaw: 0, pitch: 0, roll: 0 },
      quality: { brightness: 0.5, contrast: 0.15, sharpness, faceSize: 240, centred: 0.95 },
    },
    embedding, otherFaces: [], model: { ...MODEL }, ms: 90,
  };
}

const keyring: TemplateKeyring = { current: 'k2025', keys: { k2025: crypto.randomBytes(32) } };

function codeOf(fn: () => unknown): string {
  try { fn(); return 'ok'; } catch (e) { expect(e).toBeInstanceOf(FaceError); return (e as FaceError).code; }
}

describe('templates', () => {
  it('enrols by averaging normalised embeddings and keeps the worst quality', () => {
    const a = unit(1), b = unit(2);
    const scaled = a.map((v) => v * 7); // not normalised: must be normalised before averaging
    const t = enrolTemplate([analysis(scaled, 80), analysis(b, 40)], new Date('2025-01-02T03:04:05Z'));
    expect(t.v).toBe(2);
    expect(Array.from(t.enrolment!)).toEqual(Array.from(t.embedding));
    expect(t.recent).toEqual([]);
    expect(t.model).toEqual(MODEL);
    expect(t.created).toBe('2025-01-02T03:04:05.000Z');
    expect(t.quality.sharpness).toBe(40);
    expect(t.quality.images).toBe(2);
    const mean = a.map((v, i) => v + b[i]!);
    const n = Math.hypot(...mean);
    for (let i = 0; i < EMBEDDING_SIZE; i++) expect(t.embedding[i]).toBeCloseTo(mean[i]! / n, 6);
    expect(Math.hypot(...t.embedding)).toBeCloseTo(1, 5);
  });

  it('round-trips through seal/open and still compares identically', () => {
    const t = enrolTemplate([analysis(unit(3))]);
    const sealed = sealTemplate(t, keyring);
    expect(sealed.startsWith('ft1.k2025.')).toBe(true);
    expect(templateKeyId(sealed)).toBe('k2025');
    expect(sealed).not.toContain(Buffer.from(t.embedding.buffer).toString('base64').slice(0, 20));
    const opened = openTemplate(sealed, keyring);
    expect(opened.model).toEqual(MODEL);
    expect(opened.created).toBe(t.created);
    expect(Array.from(opened.embedding)).toEqual(Array.from(t.embedding));
    expect(compare(opened, analysis(unit(3))).score).toBe(100);
    expect(compare(opened, analysis(unit(4))).decision).toBe('Declined');
    // Two seals of the same template differ (fresh IV) but both open.
    const again = sealTemplate(t, keyring);
    expect(again).not.toBe(sealed);
    expect(Array.from(openTemplate(Buffer.from(again), keyring).embedding)).toEqual(Array.from(t.embedding));
  });

  it('detects one flipped byte anywhere in the ciphertext, IV or tag', () => {
    const sealed = sealTemplate(enrolTemplate([analysis(unit(5))]), keyring);
    const [p, kid, iv, ct] = sealed.split('.') as [string, string, string, string];
    const blob = Buffer.from(ct, 'base64url');
    for (const pos of [0, Math.floor(blob.length / 2), blob.length - 1]) {
      const bad = Buffer.from(blob);
      bad[pos]! ^= 0x01;
      expect(codeOf(() => openTemplate(`${p}.${kid}.${iv}.${bad.toString('base64url')}`, keyring))).toBe('TEMPLATE_INVALID');
    }
    const ivBytes = Buffer.from(iv, 'base64url');
    ivBytes[3]! ^= 0x80;
    expect(codeOf(() => openTemplate(`${p}.${kid}.${ivBytes.toString('base64url')}.${ct}`, keyring))).toBe('TEMPLATE_INVALID');
    expect(codeOf(() => openTemplate('garbage', keyring))).toBe('TEMPLATE_INVALID');
    expect(codeOf(() => openTemplate(sealed.slice(0, -10), keyring))).toBe('TEMPLATE_INVALID');
  });

  it('refuses an unknown key id, and a kid swapped onto another key', () => {
    const sealed = sealTemplate(enrolTemplate([analysis(unit(6))]), keyring);
    const other: TemplateKeyring = { current: 'k2026', keys: { k2026: crypto.randomBytes(32) } };
    expect(codeOf(() => openTemplate(sealed, other))).toBe('TEMPLATE_KEY_UNKNOWN');
    // Same key bytes under another kid: the kid is authenticated, so this fails too.
    const relabelled = sealed.replace('ft1.k2025.', 'ft1.k2026.');
    expect(codeOf(() => openTemplate(relabelled, { current: 'k2026', keys: { k2026: keyring.keys.k2025! } }))).toBe('TEMPLATE_INVALID');
  });

  it('supports rotation: new templates use the current key, old ones still open', () => {
    const oldSealed = sealTemplate(enrolTemplate([analysis(unit(7))]), keyring);
    const rotated: TemplateKeyring = { current: 'k2026', keys: { ...keyring.keys, k2026: crypto.randomBytes(32) } };
    const newSealed = sealTemplate(enrolTemplate([analysis(unit(8))]), rotated);
    expect(templateKeyId(newSealed)).toBe('k2026');
    expect(openTemplate(oldSealed, rotated).embedding).toHaveLength(EMBEDDING_SIZE);
    expect(openTemplate(newSealed, rotated).embedding).toHaveLength(EMBEDDING_SIZE);
    expect(codeOf(() => openTemplate(newSealed, keyring))).toBe('TEMPLATE_KEY_UNKNOWN');
  });

  it('refuses a template made by another model version, sealed or not', () => {
    const t = enrolTemplate([analysis(unit(9))]);
    const old = { ...t, model: { id: MODEL.id, version: '0.9.0-old' } };
    expect(codeOf(() => openTemplate(sealTemplate(old, keyring), keyring))).toBe('TEMPLATE_MODEL_MISMATCH');
    expect(codeOf(() => compare(old, analysis(unit(9))))).toBe('TEMPLATE_MODEL_MISMATCH');
    const otherModel = { ...analysis(unit(9)), model: { id: 'other-net', version: MODEL.version } };
    expect(codeOf(() => enrolTemplate([otherModel]))).toBe('TEMPLATE_MODEL_MISMATCH');
    expect(codeOf(() => compare(t, otherModel))).toBe('TEMPLATE_MODEL_MISMATCH');
  });

  it('opens a template of the previous model and compares it in that model, by its own thresholds', () => {
    const legacyEmb = unit(21, LEGACY_EMBEDDING_SIZE);
    // What the previous release sealed: format 1, 128-d, the face-api model id.
    const old: FaceTemplate = { v: 1, model: { ...LEGACY_MODEL }, embedding: legacyEmb, created: '2025-01-01T00:00:00.000Z', quality: { brightness: 0.5, contrast: 0.15, sharpness: 100, faceSize: 240, centred: 0.95, images: 1 } };
    const opened = openTemplate(sealTemplate(old, keyring), keyring);
    expect(opened.model).toEqual(LEGACY_MODEL);
    expect(opened.embedding).toHaveLength(LEGACY_EMBEDDING_SIZE);
    const probe = analysis(unit(22));
    // Without the capture's legacy embedding there is nothing to compare with.
    expect(codeOf(() => compare(opened, probe))).toBe('TEMPLATE_MODEL_MISMATCH');
    const withLegacy = { ...probe, legacy: { model: { ...LEGACY_MODEL }, embedding: legacyEmb } };
    const r = compare(opened, withLegacy, { review: 99, decline: 98 });
    expect(r.model).toEqual(LEGACY_MODEL);
    expect(r.score).toBe(100);
    expect(r.threshold).toBe(LEGACY_THRESHOLDS.review); // the current model's thresholds do not apply
    // An approved sign-in re-enrols it with the current model; nothing else does.
    expect(migrateTemplate(opened, withLegacy, { decision: 'In Review' })).toBeUndefined();
    const migrated = migrateTemplate(opened, withLegacy, { decision: 'Approved' })!;
    expect(migrated.model).toEqual(MODEL);
    expect(Array.from(migrated.embedding)).toEqual(Array.from(probe.embedding));
  });
});

describe('drift', () => {
  // A face that changes over the years: each sign-in a little further from the enrolment.
  function step(from: Float32Array, towards: Float32Array, k: number): Float32Array {
    const v = from.map((x, i) => (1 - k) * x + k * towards[i]!);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  }

  it('a genuine sequence of high-score sign-ins moves the template; the enrolment stays', () => {
    const enrolled = unit(31);
    const later = unit(32); // where the face is heading
    let t = enrolTemplate([analysis(enrolled)]);
    const scoresBefore: number[] = [];
    for (let i = 1; i <= 6; i++) {
      const face = analysis(step(enrolled, later, 0.1 * i));
      const r = compare(t, face);
      scoresBefore.push(r.score);
      expect(r.score).toBeGreaterThanOrEqual(DRIFT.minScore);
      t = foldIntoTemplate(t, face, r)!;
      expect(t).toBeDefined();
      expect(t.recent!.length).toBe(Math.min(i, DRIFT.keep));
      expect(Array.from(t.enrolment!)).toEqual(Array.from(enrolled)); // never dropped
    }
    const next = analysis(step(enrolled, later, 0.7));
    const withDrift = compare(t, next).score;
    const withoutDrift = compare(enrolTemplate([analysis(enrolled)]), next).score;
    // The template followed the face: the next sign-in scores higher than against the enrolment alone.
    expect(withDrift).toBeGreaterThan(withoutDrift + 5);
    // Bounded: the template stays at least as close to the enrolment as to the recent faces' mean.
    expect(cosine(t.embedding, enrolled)).toBeGreaterThan(0.7);
  });

  it('an impostor approved once at the threshold does not move the template: his next score is the same', () => {
    const owner = unit(41);
    const t = enrolTemplate([analysis(owner)]);
    // An impostor embedding placed so that it scores just above the review threshold.
    const other = unit(42);
    const target = DEFAULT_THRESHOLDS.review + 0.5;
    let lo = 0, hi = 1, impostor = other;
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      impostor = step(other, owner, mid);
      if (compare(t, analysis(impostor)).score < target) lo = mid; else hi = mid;
    }
    const first = compare(t, analysis(impostor));
    expect(first.decision).toBe('Approved');
    expect(first.score).toBeLessThan(DEFAULT_THRESHOLDS.review + 1);
    expect(foldIntoTemplate(t, analysis(impostor), first)).toBeUndefined();
    // Even his best case (a score exactly at DRIFT.minScore) pulls the template by a bounded amount:
    // the enrolment keeps half the weight, so the owner's own next score stays high.
    const strong = (() => { let l = 0, h = 1, v = other; for (let i = 0; i < 60; i++) { const m = (l + h) / 2; v = step(other, owner, m); if (compare(t, analysis(v)).score < DRIFT.minScore) l = m; else h = m; } return v; })();
    const folded = foldIntoTemplate(t, analysis(strong), compare(t, analysis(strong)))!;
    expect(compare(folded, analysis(owner)).score).toBeGreaterThan(DRIFT.minScore);
    // Never folded after review or a decline, whatever the score.
    expect(foldIntoTemplate(t, analysis(owner), { decision: 'In Review', score: 100 })).toBeUndefined();
    expect(foldIntoTemplate(t, analysis(owner), { decision: 'Declined', score: 100 })).toBeUndefined();
  });

  it('keeps drift state through seal/open', () => {
    let t = enrolTemplate([analysis(unit(51))]);
    t = foldIntoTemplate(t, analysis(unit(51)), { decision: 'Approved', score: 100 })!;
    const o = openTemplate(sealTemplate(t, keyring), keyring);
    expect(o.v).toBe(2);
    expect(o.recent).toHaveLength(1);
    expect(Array.from(o.enrolment!)).toEqual(Array.from(t.enrolment!));
    expect(Array.from(o.embedding)).toEqual(Array.from(t.embedding));
  });
});
