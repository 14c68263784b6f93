/**
 * The ArcFace-class recogniser (512-d) on onnxruntime-node, CPU.
 *
 * Weights: `fr_feature.onnx` from faceplugin-face-recognition-js@0.0.1, put in
 * node_modules/.face-models/ by the project's postinstall (scripts/face-models.cjs) with a pinned
 * SHA-256 that is checked again here: a different file would silently change every embedding.
 * Input 1×3×112×112, RGB, (x − 127) / 128 (what that package feeds it), the face aligned by a
 * similarity transform of 5 points (eye centres, nose tip, mouth corners) onto the standard ArcFace
 * 112×112 template.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { fitSimilarity, meanPoint } from './geometry.ts';
import type { RgbImage } from './image.ts';
import type { Point } from './types.ts';

const require = createRequire(import.meta.url);

export const ARCFACE_FILE = 'fr_feature.onnx';
/** Same pin as scripts/face-models.cjs. */
export const ARCFACE_SHA256 = '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581';
export const ARCFACE_SIZE = 112;
export const ARCFACE_DIM = 512;

/** The standard ArcFace 5-point template for a 112×112 crop (insightface's arcface_dst). */
export const ARCFACE_TEMPLATE: readonly Point[] = Object.freeze([
  { x: 38.2946, y: 51.6963 }, // eye on the image's left
  { x: 73.5318, y: 51.5014 }, // eye on the image's right
  { x: 56.0252, y: 71.7366 }, // nose tip
  { x: 41.5493, y: 92.3655 }, // mouth corner, image left
  { x: 70.7299, y: 92.2041 }, // mouth corner, image right
]);

export function faceModelDir(): string {
  // node_modules/.face-models sits beside the packages; find node_modules through one we depend on.
  const ortPkg = require.resolve('onnxruntime-node/package.json');
  return path.join(path.dirname(path.dirname(ortPkg)), '.face-models');
}

/** The 5 ArcFace points from 68 iBUG landmarks (eye centres from the 6 eye points each). */
export function fivePoints(lm: readonly Point[]): Point[] {
  return [meanPoint(lm, 36, 41), meanPoint(lm, 42, 47), lm[30]!, lm[48]!, lm[54]!];
}

/** Affine map chip (u, v) → image (x, y) for the 112 px ArcFace crop, and image pixels per chip pixel. */
export function arcfaceTransform(lm: readonly Point[]): { toImage: [number, number, number, number, number, number]; scale: number } {
  const t = fitSimilarity(ARCFACE_TEMPLATE, fivePoints(lm));
  return { toImage: [t.a, -t.b, t.tx, t.b, t.a, t.ty], scale: Math.hypot(t.a, t.b) };
}

export interface ArcFace {
  /** 512-d embedding (not normalised) of a 112×112 aligned RGB crop. */
  embed(chip: RgbImage): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * Load the model. `threads` = intra-op threads of this session: the pool runs one session per worker,
 * so each gets cores / workers (1 on a 2-core machine with 2 workers): more would only make the
 * workers' threads fight over the same cores.
 */
export async function loadArcFace(threads = 1, dir = faceModelDir()): Promise<ArcFace> {
  const file = path.join(dir, ARCFACE_FILE);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new Error(`${file} is missing: run npm ci (or node scripts/face-models.cjs)`);
  }
  if (crypto.createHash('sha256').update(bytes).digest('hex') !== ARCFACE_SHA256) {
    throw new Error(`${file} does not match its pinned SHA-256: reinstall (node scripts/face-models.cjs)`);
  }
  const ort = require('onnxruntime-node') as typeof Ort;
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: Math.max(1, Math.floor(threads)),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // With the arena, ORT reuses one block for every run's activations; without it each run mallocs and
    // frees them and glibc's arenas keep the fragments: measured RSS after 200 runs 107 MB vs 122 MB.
    enableCpuMemArena: true,
  });
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  const n = ARCFACE_SIZE * ARCFACE_SIZE;
  return {
    async embed(chip) {
      if (chip.width !== ARCFACE_SIZE || chip.height !== ARCFACE_SIZE) throw new Error('ArcFace input must be 112×112');
      const x = new Float32Array(3 * n);
      const d = chip.data;
      for (let i = 0, j = 0; i < n; i++, j += 3) {
        x[i] = (d[j]! - 127) / 128;
        x[n + i] = (d[j + 1]! - 127) / 128;
        x[2 * n + i] = (d[j + 2]! - 127) / 128;
      }
      const tensor = new ort.Tensor('float32', x, [1, 3, ARCFACE_SIZE, ARCFACE_SIZE]);
      const res = await session.run({ [input]: tensor });
      const out = res[output]!;
      const emb = new Float32Array(out.data as Float32Array);
      tensor.dispose();
      out.dispose();
      return emb;
    },
    release: () => session.release(),
  };
}
