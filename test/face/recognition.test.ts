import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { chipTemplate, chipTransform, estimatePose, fitSimilarity } from '../../src/face/geometry.ts';
import { installFrugalForward, type TinyDetectorLike } from '../../src/face/detector.ts';
import { createRecogniser } from '../../src/face/recognition.ts';
import { loadRuntime, modelDir } from '../../src/face/runtime.ts';
import { FACES_DIR } from '../../bench/face/common.ts';
import type { TNetInput } from '@vladmandic/face-api';

describe('folded recognition network', () => {
  it('gives the same descriptor as face-api FaceRecognitionNet', async () => {
    const rt = await loadRuntime(['faceRecognitionNet']);
    const rec = createRecogniser(rt.tf, modelDir());
    for (const name of ['amy/amy1', 'raj/raj3', 'stuart/stuart5']) {
      const { data, info } = await sharp(fs.readFileSync(path.join(FACES_DIR, `${name}.png`))).resize(150, 150).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      expect(info.channels).toBe(3);
      const chip = { data: new Uint8Array(data), width: 150, height: 150 };
      const ours = await rec.embed(chip);
      const t = rt.tf.tensor3d(chip.data, [150, 150, 3], 'int32');
      const ref = (await rt.faceapi.nets.faceRecognitionNet.computeFaceDescriptor(t as unknown as TNetInput)) as Float32Array;
      t.dispose();
      expect(ours).toHaveLength(128);
      let maxDiff = 0;
      for (let i = 0; i < 128; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - ref[i]!));
      expect(maxDiff).toBeLessThan(1e-5);
      expect(Math.hypot(...ref)).toBeGreaterThan(0.5);
    }
    rec.dispose();
  }, 60_000);
});

describe('tiny face detector, frugal forward pass', () => {
  it('gives exactly the output of face-api forwardInput and leaks no tensor', async () => {
    const rt = await loadRuntime(['tinyFaceDetector']);
    const net = rt.faceapi.nets.tinyFaceDetector as unknown as TinyDetectorLike;
    const original = installFrugalForward(rt.tf, net);
    for (const [name, size] of [['amy/amy1', 224], ['raj/raj3', 320], ['stuart/stuart5', 224]] as const) {
      const { data, info } = await sharp(fs.readFileSync(path.join(FACES_DIR, `${name}.png`))).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const t = rt.tf.tensor3d(new Uint8Array(data), [info.height, info.width, 3], 'int32');
      const input = await rt.faceapi.toNetInput(t as unknown as TNetInput);
      const ref = original.call(net, input as never, size);
      const before = rt.tf.memory().numTensors;
      const ours = net.forwardInput(input as never, size);
      expect(rt.tf.memory().numTensors).toBe(before + 1);
      expect(ours.shape).toEqual(ref.shape);
      const a = ours.dataSync();
      const b = ref.dataSync();
      let same = 0;
      for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
      expect(same).toBe(a.length);
      ours.dispose();
      ref.dispose();
      t.dispose();
    }
  }, 60_000);
});

describe('geometry', () => {
  it('fits a known similarity transform exactly', () => {
    const from = [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 0, y: 5 }, { x: 7, y: 3 }];
    const th = 0.3, sc = 2.5, tx = 4, ty = -7;
    const to = from.map((p) => ({ x: sc * (Math.cos(th) * p.x - Math.sin(th) * p.y) + tx, y: sc * (Math.sin(th) * p.x + Math.cos(th) * p.y) + ty }));
    const t = fitSimilarity(from, to);
    expect(t.a).toBeCloseTo(sc * Math.cos(th), 9);
    expect(t.b).toBeCloseTo(sc * Math.sin(th), 9);
    expect(t.tx).toBeCloseTo(tx, 9);
    expect(t.ty).toBeCloseTo(ty, 9);
  });

  it('reads a frontal, level face as pose 0 and a tilted one by its roll', () => {
    // Landmarks placed on the chip template itself: the chip transform is the identity.
    const chip = chipTransform(syntheticLandmarks(0), 150);
    expect(chip.scale).toBeCloseTo(1, 6);
    expect(chip.toImage[2]).toBeCloseTo(0, 6);
    expect(chipTransform(syntheticLandmarks(20), 150).toImage[3]).toBeCloseTo(Math.sin((20 * Math.PI) / 180), 6);
    const p0 = estimatePose(syntheticLandmarks(0));
    expect(Math.abs(p0.yaw)).toBeLessThan(0.5);
    expect(Math.abs(p0.pitch)).toBeLessThan(0.5);
    expect(Math.abs(p0.roll)).toBeLessThan(0.5);
    const p20 = estimatePose(syntheticLandmarks(20));
    expect(p20.roll).toBeCloseTo(20, 0);
    expect(Math.abs(p20.yaw)).toBeLessThan(0.5);
  });
});

/** 68 points whose 17..67 sit on the 150 px dlib chip template, rotated by `deg` about the chip centre. */
function syntheticLandmarks(deg: number) {
  const c = 75;
  const r = (deg * Math.PI) / 180;
  const pts = chipTemplate(150).map((p) => ({ x: c + Math.cos(r) * (p.x - c) - Math.sin(r) * (p.y - c), y: c + Math.sin(r) * (p.x - c) + Math.cos(r) * (p.y - c) }));
  return [...Array.from({ length: 17 }, () => ({ x: c, y: c })), ...pts];
}
