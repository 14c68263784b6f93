import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  compare, EMBEDDING_SIZE, enrolTemplate, FaceError, MODEL, openTemplate, sealTemplate, templateKeyId,
  type FaceAnalysis, type TemplateKeyring,
} from '../../src/face/index.ts';

function unit(seed: number): Float32Array {
  // Deterministic pseudo-random unit vector.
  const v = new Float32Array(EMBEDDING_SIZE);
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
    expect(t.v).toBe(1);
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
});
