// The frame check's JPEG header reader against sharp's on real and constructed files, and its
// refusals of what is not a JPEG up to its frame header.
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { jpegSize } from '../../src/verifier/capture/jpeg-size.ts';
import { SHARED_DIR } from '../helpers/env.ts';

const LFW_IMAGES = path.join(SHARED_DIR, 'faces-lfw', 'images');

const grey = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: { r: 90, g: 120, b: 150 } } });

describe('jpegSize', () => {
  it('reads the size sharp reads, on real camera JPEGs (the first 200 people of LFW)', async () => {
    const people = fs.readdirSync(LFW_IMAGES).sort().slice(0, 200);
    const files = people.flatMap((p) => fs.readdirSync(path.join(LFW_IMAGES, p)).map((f) => path.join(LFW_IMAGES, p, f)));
    expect(files.length).toBeGreaterThanOrEqual(200);
    for (const f of files) {
      const bytes = fs.readFileSync(f);
      const meta = await sharp(bytes).metadata();
      expect(jpegSize(bytes), f).toEqual({ width: meta.width, height: meta.height });
    }
  });

  it('reads baseline, progressive and EXIF-carrying encodings', async () => {
    for (const [w, h] of [[320, 240], [1, 1], [641, 17]] as const) {
      for (const bytes of [
        await grey(w, h).jpeg().toBuffer(),
        await grey(w, h).jpeg({ progressive: true }).toBuffer(),
        await grey(w, h).withMetadata({ orientation: 6 }).jpeg().toBuffer(),
      ]) expect(jpegSize(bytes)).toEqual({ width: w, height: h });
    }
  });

  it('refuses what is not a JPEG up to its frame header', async () => {
    const good = await grey(320, 240).jpeg().toBuffer();
    const sof = good.findIndex((_, i) => good[i] === 0xff && good[i + 1] === 0xc0);
    expect(jpegSize(new Uint8Array(0))).toBeNull();
    expect(jpegSize(await grey(8, 8).png().toBuffer())).toBeNull();
    expect(jpegSize(good.subarray(0, sof + 5))).toBeNull(); // cut inside the frame header
    expect(jpegSize(good.subarray(0, 20))).toBeNull(); // cut before it
    const zeroWidth = Buffer.from(good); zeroWidth[sof + 7] = 0; zeroWidth[sof + 8] = 0;
    expect(jpegSize(zeroWidth)).toBeNull();
    const noMarker = Buffer.from(good); noMarker[2] = 0x00; // the first segment does not start with 0xFF
    expect(jpegSize(noMarker)).toBeNull();
    // scan data (SOS) before any frame header
    expect(jpegSize(Uint8Array.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 1, 2, 3, 4, 5, 6]))).toBeNull();
  });
});
