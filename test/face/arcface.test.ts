// The ArcFace-class recogniser's loading guard and its 5-point alignment (pure parts; the model itself
// runs in every analyze test).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCFACE_FILE, ARCFACE_TEMPLATE, arcfaceTransform, faceModelDir, fivePoints, loadArcFace } from '../../src/face/arcface.ts';
import type { Point } from '../../src/face/types.ts';

describe('ArcFace model file', () => {
  it('is installed by npm ci and loads; a missing or altered file is refused, never used', async () => {
    expect(fs.existsSync(path.join(faceModelDir(), ARCFACE_FILE))).toBe(true);
    const ok = await loadArcFace(1);
    await ok.release();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arcface-'));
    try {
      await expect(loadArcFace(1, dir)).rejects.toThrow(/missing/);
      const bytes = fs.readFileSync(path.join(faceModelDir(), ARCFACE_FILE));
      bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1; // one bit
      fs.writeFileSync(path.join(dir, ARCFACE_FILE), bytes);
      await expect(loadArcFace(1, dir)).rejects.toThrow(/SHA-256/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('5-point alignment', () => {
  it('maps the 5 points of a rotated, scaled, shifted face onto the ArcFace template', () => {
    // 68 landmarks whose eye (36-41, 42-47), nose-tip (30) and mouth-corner (48, 54) points are the
    // template moved by a known similarity transform.
    const s = 2.5, th = 0.3, tx = 140, ty = 90;
    const move = (p: Point): Point => ({ x: s * (Math.cos(th) * p.x - Math.sin(th) * p.y) + tx, y: s * (Math.sin(th) * p.x + Math.cos(th) * p.y) + ty });
    const lm: Point[] = Array.from({ length: 68 }, () => ({ x: 0, y: 0 }));
    const [le, re, nose, ml, mr] = ARCFACE_TEMPLATE.map(move);
    for (let i = 36; i <= 41; i++) lm[i] = le!;
    for (let i = 42; i <= 47; i++) lm[i] = re!;
    lm[30] = nose!; lm[48] = ml!; lm[54] = mr!;
    for (const [i, p] of fivePoints(lm).entries()) {
      expect(p.x).toBeCloseTo([le, re, nose, ml, mr][i]!.x, 9);
      expect(p.y).toBeCloseTo([le, re, nose, ml, mr][i]!.y, 9);
    }
    const { toImage: [a, b, c, d, e, f], scale } = arcfaceTransform(lm);
    expect(scale).toBeCloseTo(s, 6);
    for (const [i, t] of ARCFACE_TEMPLATE.entries()) {
      const img = { x: a * t.x + b * t.y + c, y: d * t.x + e * t.y + f };
      const want = [le, re, nose, ml, mr][i]!;
      expect(img.x).toBeCloseTo(want.x, 6);
      expect(img.y).toBeCloseTo(want.y, 6);
    }
  });
});
