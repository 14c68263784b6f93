/** Helpers shared by the face benchmarks and tests: the shared faces, selfie-like frames, the reference pipeline. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FACES_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'faces');

export interface SharedFace {
  id: string;
  file: string;
}

/** Every shared face: `<identity>/<identity><n>.png`, sorted. */
export function sharedFaces(): SharedFace[] {
  return fs.readdirSync(FACES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => fs.readdirSync(path.join(FACES_DIR, d.name))
      .filter((f) => /\.(png|jpe?g|webp)$/i.test(f))
      .map((f) => ({ id: d.name, file: path.join(FACES_DIR, d.name, f) })))
    .sort((a, b) => a.file.localeCompare(b.file));
}

/**
 * A selfie-like frame: the crop pasted unscaled (or scaled to `faceSize`) in the middle of a
 * width×height mid-grey canvas, encoded as JPEG (quality 90) like a browser capture.
 */
export async function selfieFrame(crop: Uint8Array | string, opts: { width?: number; height?: number; faceSize?: number; format?: 'jpeg' | 'png' } = {}): Promise<Buffer> {
  const W = opts.width ?? 640;
  const H = opts.height ?? 480;
  let face = sharp(crop).removeAlpha().toColourspace('srgb');
  const meta = await sharp(crop).metadata();
  let fw = meta.width!;
  let fh = meta.height!;
  if (opts.faceSize) {
    face = face.resize(opts.faceSize, opts.faceSize);
    fw = fh = opts.faceSize;
  }
  const out = sharp({ create: { width: W, height: H, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite([{ input: await face.png().toBuffer(), left: Math.round((W - fw) / 2), top: Math.round((H - fh) / 2) }]);
  return opts.format === 'png' ? out.png().toBuffer() : out.jpeg({ quality: 90 }).toBuffer();
}

/** All unordered pairs (i < j) split into genuine (same identity) and impostor. */
export function allPairs<T extends { id: string }>(items: T[]): { genuine: Array<[T, T]>; impostor: Array<[T, T]> } {
  const genuine: Array<[T, T]> = [];
  const impostor: Array<[T, T]> = [];
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      (items[i]!.id === items[j]!.id ? genuine : impostor).push([items[i]!, items[j]!]);
    }
  }
  return { genuine, impostor };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}
