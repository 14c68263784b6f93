import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaceEngine, EMBEDDING_SIZE, FaceError, MODEL, type FaceEngine } from '../../src/face/index.ts';
import { FACES_DIR, selfieFrame } from '../../bench/face/common.ts';

let engine: FaceEngine;
const face = (id: string, n: number) => path.join(FACES_DIR, id, `${id}${n}.png`);

beforeAll(async () => {
  engine = await createFaceEngine({ poolSize: 2 });
});
afterAll(async () => {
  await engine?.close();
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    expect(e).toBeInstanceOf(FaceError);
    return (e as FaceError).code;
  }
}

/** A PNG whose IHDR claims width×height, with no pixel data behind it. */
function pngHeader(width: number, height: number): Uint8Array {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = 8; // bit depth
  data[9] = 2; // RGB
  const type = Buffer.from('IHDR');
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const b of Buffer.concat([type, data])) crc = crcTable[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  const crcBuf = Buffer.alloc(4);
  crcBuf.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(13);
  return Buffer.concat([sig, len, type, data, crcBuf]);
}

describe('image input', () => {
  it('refuses bytes that are not an image', async () => {
    expect(await code(engine.analyze(Buffer.from('definitely not a jpeg')))).toBe('IMAGE_INVALID');
    expect(await code(engine.analyze(new Uint8Array(0)))).toBe('IMAGE_INVALID');
    // Right magic number, garbage after it.
    expect(await code(engine.analyze(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(500, 7)])))).toBe('IMAGE_INVALID');
  });

  it('refuses a truncated JPEG', async () => {
    const jpeg = await selfieFrame(face('amy', 2));
    expect((await engine.analyze(jpeg)).face.box.width).toBeGreaterThan(100);
    expect(await code(engine.analyze(jpeg.subarray(0, Math.floor(jpeg.length * 0.6))))).toBe('IMAGE_INVALID');
  });

  it('refuses huge dimensions from the header, without decoding', async () => {
    const t0 = performance.now();
    expect(await code(engine.analyze(pngHeader(50000, 50000)))).toBe('IMAGE_TOO_LARGE');
    expect(performance.now() - t0).toBeLessThan(2000);
    // Just under 40 MP in the header but no pixel data: invalid, not too large.
    expect(await code(engine.analyze(pngHeader(6000, 6000)))).toBe('IMAGE_INVALID');
  });

  it('enforces the byte cap (1 MB by default, caller-set otherwise)', async () => {
    const noise = crypto.randomBytes(1200 * 1200 * 3); // incompressible: the PNG is ~4 MB
    const big = await sharp(noise, { raw: { width: 1200, height: 1200, channels: 3 } }).png().toBuffer();
    expect(big.length).toBeGreaterThan(1024 * 1024);
    expect(await code(engine.analyze(big))).toBe('IMAGE_TOO_LARGE');
    const small = await selfieFrame(face('raj', 1));
    expect(await code(engine.analyze(small, { maxBytes: small.length - 1 }))).toBe('IMAGE_TOO_LARGE');
    // With a 25 MB cap the noisy image decodes and simply has no face.
    expect(await code(engine.analyze(big, { maxBytes: 25 * 1024 * 1024 }))).toBe('NO_FACE_DETECTED');
  });

  it('finds no face in a flat grey image', async () => {
    const grey = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 128, g: 128, b: 128 } } }).jpeg().toBuffer();
    expect(await code(engine.analyze(grey))).toBe('NO_FACE_DETECTED');
  });

  it('refuses two faces of comparable size', async () => {
    const a = await sharp(face('amy', 2)).resize(200, 200).png().toBuffer();
    const b = await sharp(face('raj', 1)).resize(200, 200).png().toBuffer();
    const two = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .composite([{ input: a, left: 80, top: 140 }, { input: b, left: 360, top: 140 }]).jpeg({ quality: 90 }).toBuffer();
    expect(await code(engine.analyze(two))).toBe('MULTIPLE_FACES');
  });

  it('keeps the dominant face and reports a small background face', async () => {
    const big = await sharp(face('penny', 5)).resize(300, 300).png().toBuffer();
    const small = await sharp(face('sheldon', 1)).resize(150, 150).png().toBuffer();
    const img = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .composite([{ input: big, left: 330, top: 150 }, { input: small, left: 20, top: 20 }]).jpeg({ quality: 90 }).toBuffer();
    const r = await engine.analyze(img);
    expect(r.face.box.x).toBeGreaterThan(300);
    expect(r.face.box.width).toBeGreaterThan(200);
    expect(r.otherFaces).toHaveLength(1);
    expect(r.otherFaces[0]!.box.x).toBeLessThan(60);
    expect(r.otherFaces[0]!.box.width).toBeLessThan(0.6 * r.face.box.width);
  });

  it('refuses a face that is too small', async () => {
    // A 40 px face in a 72 px image is found (the detector upsamples) but is below the 64 px default.
    const tiny = await selfieFrame(face('raj', 4), { width: 72, height: 72, faceSize: 40 });
    expect(await code(engine.analyze(tiny))).toBe('FACE_TOO_SMALL');
    const crop = fs.readFileSync(face('raj', 4));
    expect((await engine.analyze(crop)).face.quality.faceSize).toBeGreaterThan(120);
    expect(await code(engine.analyze(crop, { minFaceSize: 200 }))).toBe('FACE_TOO_SMALL');
  });

  it('refuses a blurred face as LOW_QUALITY (sharpness) and a dark one (brightness)', async () => {
    const frame = await selfieFrame(face('amy', 2), { faceSize: 240 });
    const blurred = await sharp(frame).blur(4).jpeg().toBuffer();
    const e1 = await engine.analyze(blurred).catch((e: unknown) => e as FaceError);
    expect(e1).toBeInstanceOf(FaceError);
    expect((e1 as FaceError).code).toBe('LOW_QUALITY');
    expect((e1 as FaceError).measure).toBe('sharpness');
    const dark = await sharp(frame).linear(0.2, 0).jpeg().toBuffer();
    const e2 = await engine.analyze(dark).catch((e: unknown) => e as FaceError);
    expect((e2 as FaceError).code).toBe('LOW_QUALITY');
    expect((e2 as FaceError).measure).toBe('brightness');
    // The gate can be turned off; the measures are still reported.
    const r = await engine.analyze(blurred, { qualityGate: false });
    expect(r.face.quality.sharpness).toBeLessThan(12);
  });
});

describe('analysis', () => {
  it('returns box, 68 landmarks, pose, quality and a unit embedding for a selfie frame', async () => {
    const r = await engine.analyze(await selfieFrame(face('raj', 4), { faceSize: 240 }));
    expect(r.image).toEqual({ width: 640, height: 480, format: 'jpeg' });
    expect(r.model).toEqual(MODEL);
    expect(r.face.box.x).toBeGreaterThan(160);
    expect(r.face.box.x + r.face.box.width).toBeLessThan(480);
    expect(r.face.landmarks).toHaveLength(68);
    expect(r.otherFaces).toHaveLength(0);
    const q = r.face.quality;
    expect(q.faceSize).toBeGreaterThan(180);
    expect(q.centred).toBeGreaterThan(0.9);
    expect(q.brightness).toBeGreaterThan(0.3);
    expect(q.brightness).toBeLessThan(0.8);
    expect(q.contrast).toBeGreaterThan(0.08);
    expect(q.sharpness).toBeGreaterThan(12);
    expect(r.embedding).toBeInstanceOf(Float32Array);
    expect(r.embedding).toHaveLength(EMBEDDING_SIZE);
    const norm = Math.hypot(...r.embedding);
    expect(norm).toBeCloseTo(1, 4);
    expect(Math.abs(r.face.pose.yaw)).toBeLessThan(15);
  });

  it('measures roll from a rotated image and mirrors yaw', async () => {
    const src = await sharp(face('stuart', 1)).resize(220, 220).png().toBuffer();
    const base = await selfieFrame(src);
    const r0 = await engine.analyze(base);
    const rotated = await sharp(base).rotate(15, { background: { r: 128, g: 128, b: 128 } }).resize(640, 480, { fit: 'cover' }).jpeg().toBuffer();
    const r1 = await engine.analyze(rotated);
    // sharp rotates clockwise for positive angles; roll > 0 means a clockwise tilt in the image.
    expect(r1.face.pose.roll - r0.face.pose.roll).toBeGreaterThan(10);
    expect(r1.face.pose.roll - r0.face.pose.roll).toBeLessThan(20);
    const turned = await engine.analyze(await selfieFrame(face('sheldon', 3)));
    const mirrored = await engine.analyze(await sharp(await selfieFrame(face('sheldon', 3))).flop().jpeg().toBuffer());
    expect(Math.abs(turned.face.pose.yaw)).toBeGreaterThan(10);
    expect(Math.sign(mirrored.face.pose.yaw)).toBe(-Math.sign(turned.face.pose.yaw));
    expect(Math.abs(turned.face.pose.yaw + mirrored.face.pose.yaw)).toBeLessThan(10);
  });

  it('decodes greyscale PNG, CMYK JPEG, WebP and honours EXIF orientation', async () => {
    const grey = fs.readFileSync(face('leonard', 2)); // the shared crops are 1-channel PNGs
    const rg = await engine.analyze(grey);
    expect(rg.image).toMatchObject({ width: 150, height: 150, format: 'png' });
    const frame = await selfieFrame(face('leonard', 2), { faceSize: 220 });
    const cmyk = await sharp(frame).toColourspace('cmyk').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const webp = await sharp(frame).webp({ quality: 90 }).toBuffer();
    const ref = await engine.analyze(frame);
    for (const buf of [cmyk, webp]) {
      const r = await engine.analyze(buf);
      expect(Math.abs(r.face.box.x - ref.face.box.x)).toBeLessThan(15);
    }
    // Pixels stored rotated 90° clockwise, EXIF orientation 6 says "rotate back": same upright face.
    const stored = await sharp(frame).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const meta = await sharp(stored).metadata();
    expect(meta.width).toBe(480);
    const r = await engine.analyze(stored);
    expect(r.image).toMatchObject({ width: 640, height: 480 });
    expect(Math.abs(r.face.box.x - ref.face.box.x)).toBeLessThan(15);
    expect(Math.abs(r.face.pose.roll - ref.face.pose.roll)).toBeLessThan(5);
  });
});
