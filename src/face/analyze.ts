/**
 * The analysis pipeline (runs inside a pool worker):
 * decode (sharp) → tiny face detector on a 224 px letterbox (retried at 320 px on a canvas with a 25%
 * grey border when nothing is found: tight crops lack context) → dominant face → 68 landmarks (face-api,
 * tfjs wasm) → ArcFace 112 px crop from 5 of them → 512-d embedding on onnxruntime-node. Head pose and
 * the quality measures are taken as before on the dlib-style 150 px chip (the gate's limits were
 * calibrated on it). The previous model's 128-d embedding (dlib ResNet, tfjs) is computed only when
 * asked for (`legacyEmbedding`, templates enrolled before the upgrade); its net loads on first use.
 */
import { l2normalise } from './vector.ts';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { TNetInput } from '@vladmandic/face-api';
import { installFrugalForward, type TinyDetectorLike } from './detector.ts';
import { FaceError } from './errors.ts';
import { chipTransform, estimatePose } from './geometry.ts';
import { crop, decodeImage, downscale, letterbox, luminance, warpAffine, type DecodedImage, type RgbImage } from './image.ts';
import { LEGACY_MODEL, MODEL } from './model.ts';
import { qualityIssue } from './quality.ts';
import { DEFAULT_MAX_BYTES } from './sniff.ts';
import { createRecogniser, type Recogniser } from './recognition.ts';
import { ARCFACE_SIZE, arcfaceTransform, loadArcFace } from './arcface.ts';
import { loadRuntime, modelDir, type Runtime } from './runtime.ts';
import type { AnalyzeOptions, Box, DetectedFace, FaceAnalysis, Point, Quality } from './types.ts';

export const DEFAULTS = {
  minFaceSize: 64,
  /** Detector input (px) of the first pass. */
  detectorSize: 224,
  /**
   * When the first pass finds nothing: grey border (fraction of the image size, each side) and detector
   * input size of each retry, in order, until one finds a face. Tight crops (ID photos, LFW) lack the
   * context the tiny detector needs, and its anchors match a face at some scales and not others: on the
   * 20 faces-lfw images the first two passes missed, 256 px found 15 (bench/face/lfw.ts).
   */
  retries: [[0.25, 320], [0.25, 256], [0.5, 320], [0, 160]] as ReadonlyArray<readonly [number, number]>,
  /** A face whose box comes this close to the image edge (fraction of the image size) is cut by the frame. */
  edgeMargin: 0.02,
  /** Tiny face detector confidence needed (its scores run low on greyscale or soft images). */
  detectorScore: 0.35,
  /** Another face whose width is at least this fraction of the dominant one's → MULTIPLE_FACES. */
  comparableFaceRatio: 0.6,
  chipSize: 150,
} as const;

export const LANDMARK_INPUT = 112;

export interface RawDetection { box: Box; score: number }

export interface Analyzer {
  analyze(bytes: Uint8Array, opts?: AnalyzeOptions): Promise<FaceAnalysis>;
  warmUp(): Promise<void>;
  runtime: Runtime;
  /** Exposed for benchmarks and tests. */
  detectAt(img: RgbImage, size: number, minScore?: number): Promise<RawDetection[]>;
}

export interface AnalyzerOptions {
  backend?: 'wasm' | 'cpu';
  /** onnxruntime intra-op threads for the recogniser (the pool gives each worker cores / workers). */
  threads?: number;
  /** Load the legacy recogniser at start-up instead of on first use (benchmarks). */
  eagerLegacy?: boolean;
  /**
   * Benchmarks only: run the previous engine's recognition instead (dlib chip + 128-d ResNet as
   * `embedding`, no ONNX), to time old and new in the same run (bench/face/speed.ts).
   */
  legacyOnly?: boolean;
}

export async function createAnalyzer(options: AnalyzerOptions = {}): Promise<Analyzer> {
  const rt = await loadRuntime(['tinyFaceDetector', 'faceLandmark68Net'], options.backend ?? 'wasm');
  const { tf, faceapi } = rt;
  installFrugalForward(tf, faceapi.nets.tinyFaceDetector as unknown as TinyDetectorLike);
  const arcface = await loadArcFace(options.threads ?? 1);
  // The 128-d net costs ~50 MB of wasm heap per worker: only workers that meet an old template pay it.
  let legacy: Recogniser | undefined;
  const legacyRecogniser = (): Recogniser => (legacy ??= createRecogniser(tf, modelDir()));
  if (options.eagerLegacy || options.legacyOnly) legacyRecogniser();

  function toTensor(img: RgbImage): TfCore.Tensor3D {
    return tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
  }

  async function detectAt(img: RgbImage, size: number, minScore: number = DEFAULTS.detectorScore): Promise<RawDetection[]> {
    const lb = await letterbox(img, size);
    const t = tf.tensor3d(lb.data, [size, size, 3], 'int32');
    try {
      const opts = new faceapi.TinyFaceDetectorOptions({ inputSize: size, scoreThreshold: minScore });
      const dets = await faceapi.nets.tinyFaceDetector.locateFaces(asInput(t), opts);
      return dets.map((d) => ({
        score: d.score,
        box: clipBox({ x: d.box.x * lb.factor, y: d.box.y * lb.factor, width: d.box.width * lb.factor, height: d.box.height * lb.factor }, img),
      })).filter((d) => d.box.width > 4 && d.box.height > 4);
    } finally {
      t.dispose();
    }
  }

  /** Tight crops (an ID photo, the shared test faces) lack the context the detector needs: retry on a canvas with a border. */
  async function detect(img: RgbImage): Promise<RawDetection[]> {
    const first = await detectAt(img, DEFAULTS.detectorSize);
    if (first.length) return first;
    for (const [pad, size] of DEFAULTS.retries) {
      const padX = Math.round(img.width * pad);
      const padY = Math.round(img.height * pad);
      const canvas = pad > 0 ? padImage(img, padX, padY) : img;
      const found = await detectAt(canvas, size);
      if (found.length) return found.map((d) => ({ score: d.score, box: clipBox({ ...d.box, x: d.box.x - padX, y: d.box.y - padY }, img) }));
    }
    return [];
  }

  /**
   * 68 landmarks. The net's input is a fixed 112×112 square centred on the detector box (fixed shapes
   * keep the wasm heap from fragmenting and skip face-api's own pad-and-resize).
   */
  async function landmarksFor(img: RgbImage, box: Box): Promise<Point[]> {
    const side = Math.max(box.width, box.height);
    const x0 = box.x + box.width / 2 - side / 2;
    const y0 = box.y + box.height / 2 - side / 2;
    const k = side / LANDMARK_INPUT;
    const input = warpAffine(img, [k, 0, x0 + k / 2 - 0.5, 0, k, y0 + k / 2 - 0.5], LANDMARK_INPUT, LANDMARK_INPUT);
    const t = toTensor(input);
    try {
      const res = await faceapi.nets.faceLandmark68Net.detectLandmarks(asInput(t));
      const lm = Array.isArray(res) ? res[0]! : res;
      return lm.positions.map((p) => ({ x: x0 + p.x * k, y: y0 + p.y * k }));
    } finally {
      t.dispose();
    }
  }

  async function alignedChip(img: RgbImage, lm: Point[]): Promise<RgbImage> {
    return warpChip(img, chipTransform(lm, DEFAULTS.chipSize), DEFAULTS.chipSize);
  }

  /** Sample a size×size chip through `chip.toImage`, area-downscaling first when the face is much larger than the chip. */
  async function warpChip(img: RgbImage, chip: { toImage: [number, number, number, number, number, number]; scale: number }, size: number): Promise<RgbImage> {
    let m = chip.toImage;
    let src = img;
    if (chip.scale > 1.6) {
      // Face much larger than the chip: area-downscale the region first to avoid aliasing.
      const [a, b, c, d, e, f] = m;
      const xs = [c, a * size + c, b * size + c, a * size + b * size + c];
      const ys = [f, d * size + f, e * size + f, d * size + e * size + f];
      const x0 = Math.max(0, Math.floor(Math.min(...xs)) - 2);
      const y0 = Math.max(0, Math.floor(Math.min(...ys)) - 2);
      const x1 = Math.min(img.width, Math.ceil(Math.max(...xs)) + 2);
      const y1 = Math.min(img.height, Math.ceil(Math.max(...ys)) + 2);
      if (x1 - x0 > 8 && y1 - y0 > 8) {
        const region = crop(img, x0, y0, x1 - x0, y1 - y0);
        const k = chip.scale;
        src = await downscale(region, k);
        const kx = region.width / src.width;
        const ky = region.height / src.height;
        m = [a / kx, b / kx, (c - x0) / kx, d / ky, e / ky, (f - y0) / ky];
      }
    }
    return warpAffine(src, m, size, size);
  }

  async function embed(chip: RgbImage): Promise<Float32Array> {
    return l2normalise(await arcface.embed(chip));
  }

  async function embedLegacy(chip150: RgbImage): Promise<Float32Array> {
    return l2normalise(await legacyRecogniser().embed(chip150));
  }

  async function analyzeDecoded(img: DecodedImage, opts: AnalyzeOptions, t0: number): Promise<FaceAnalysis> {
    const dets = await detect(img);
    if (!dets.length) throw new FaceError('NO_FACE_DETECTED', 'no face detected');
    const dominant = pickDominant(dets, img);
    // A box mostly inside the dominant face (an eye, a mouth) is not another face.
    const others = dets.filter((d) => d !== dominant && overlapOfSmaller(d.box, dominant.box) < 0.5);
    for (const o of others) {
      // A face cut by the frame's edge while the dominant one is whole is a bystander at the side (LFW
      // crops of news photos: 96 of 5,828 images were refused for a neighbour's half face), not a
      // second candidate for the capture.
      if (cutByEdge(o.box, img) && !cutByEdge(dominant.box, img)) continue;
      if (o.box.width >= DEFAULTS.comparableFaceRatio * dominant.box.width) {
        throw new FaceError('MULTIPLE_FACES', `${others.length + 1} faces of comparable size`);
      }
    }
    const faceSize = Math.round(dominant.box.width * img.scale);
    const minFace = opts.minFaceSize ?? DEFAULTS.minFaceSize;
    if (faceSize < minFace) throw new FaceError('FACE_TOO_SMALL', `face ${faceSize}px wide, ${minFace}px needed`, { value: faceSize, limit: minFace });

    const lm = await landmarksFor(img, dominant.box);
    const chip = await alignedChip(img, lm);
    const pose = estimatePose(lm);
    const quality = measureQuality(chip, dominant.box, img, faceSize);
    if (opts.qualityGate !== false) {
      const issue = qualityIssue(quality, pose);
      if (issue) throw issue;
    }
    const embedding = options.legacyOnly ? await embedLegacy(chip) : await embed(await warpChip(img, arcfaceTransform(lm), ARCFACE_SIZE));
    const legacyEmb = opts.legacyEmbedding && !options.legacyOnly ? await embedLegacy(chip) : undefined;

    const s = img.scale;
    const scaleBox = (b: Box): Box => ({ x: r1(b.x * s), y: r1(b.y * s), width: r1(b.width * s), height: r1(b.height * s) });
    return {
      image: { width: img.originalWidth, height: img.originalHeight, format: img.format },
      face: {
        box: scaleBox(dominant.box),
        score: r3(dominant.score),
        landmarks: lm.map((p) => ({ x: r1(p.x * s), y: r1(p.y * s) })),
        pose,
        quality,
      },
      embedding,
      otherFaces: others.map((o): DetectedFace => ({ box: scaleBox(o.box), score: r3(o.score) })),
      ...(legacyEmb ? { legacy: { model: { ...LEGACY_MODEL }, embedding: legacyEmb } } : {}),
      model: options.legacyOnly ? { ...LEGACY_MODEL } : { ...MODEL },
      ms: Math.round(performance.now() - t0),
    };
  }

  async function analyze(bytes: Uint8Array, opts: AnalyzeOptions = {}): Promise<FaceAnalysis> {
    const t0 = performance.now();
    const img = await decodeImage(bytes, opts.maxBytes ?? DEFAULT_MAX_BYTES);
    return analyzeDecoded(img, opts, t0);
  }

  async function warmUp(): Promise<void> {
    // One pass through each net with the real input shapes, so the first request is not slow.
    await detectAt(blank(480, 640), DEFAULTS.detectorSize);
    for (const [, size] of DEFAULTS.retries) await detectAt(blank(480, 640), size);
    await landmarksFor(blank(200, 200), { x: 0, y: 0, width: 200, height: 200 });
    await embed(blank(ARCFACE_SIZE, ARCFACE_SIZE));
    if (legacy) await embedLegacy(blank(DEFAULTS.chipSize, DEFAULTS.chipSize));
  }

  return { analyze, warmUp, runtime: rt, detectAt };
}

/** A mid-grey image (warm-up input). */
function blank(h: number, w: number): RgbImage { return { data: new Uint8Array(h * w * 3).fill(128), width: w, height: h }; }

/** face-api declares its own copy of the tfjs tensor types; the runtime objects are the same. */
function asInput(t: TfCore.Tensor3D): TNetInput { return t as unknown as TNetInput; }

function r1(v: number): number { return Math.round(v * 10) / 10; }
function r3(v: number): number { return Math.round(v * 1000) / 1000; }


function clipBox(b: Box, img: { width: number; height: number }): Box {
  const x0 = Math.max(0, b.x);
  const y0 = Math.max(0, b.y);
  const x1 = Math.min(img.width, b.x + b.width);
  const y1 = Math.min(img.height, b.y + b.height);
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

/** True when the box reaches within DEFAULTS.edgeMargin of an image edge (the face continues outside the frame). */
function cutByEdge(b: Box, img: { width: number; height: number }): boolean {
  const mx = img.width * DEFAULTS.edgeMargin, my = img.height * DEFAULTS.edgeMargin;
  return b.x <= mx || b.y <= my || b.x + b.width >= img.width - mx || b.y + b.height >= img.height - my;
}

/** Intersection area over the area of the smaller box. */
function overlapOfSmaller(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / Math.min(a.width * a.height, b.width * b.height);
}

/** Largest and most central: area weighted down by distance from the centre (half weight at a corner). */
function pickDominant(dets: RawDetection[], img: { width: number; height: number }): RawDetection {
  const halfDiag = Math.hypot(img.width, img.height) / 2;
  let best = dets[0]!;
  let bestW = -1;
  for (const d of dets) {
    const cx = d.box.x + d.box.width / 2;
    const cy = d.box.y + d.box.height / 2;
    const dist = Math.hypot(cx - img.width / 2, cy - img.height / 2) / halfDiag;
    const w = d.box.width * d.box.height * (1 - 0.5 * dist);
    if (w > bestW) { bestW = w; best = d; }
  }
  return best;
}

/** Copy `img` into the centre of a larger mid-grey canvas. */
function padImage(img: RgbImage, padX: number, padY: number): RgbImage {
  const W = img.width + 2 * padX;
  const H = img.height + 2 * padY;
  const out = new Uint8Array(W * H * 3).fill(128);
  for (let y = 0; y < img.height; y++) {
    out.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + padY) * W + padX) * 3);
  }
  return { data: out, width: W, height: H };
}

/** Brightness, contrast and sharpness on the inner face of the aligned chip; size and centring from the box. */
export function measureQuality(chip: RgbImage, box: Box, img: { width: number; height: number }, faceSize: number): Quality {
  const lum = luminance(chip);
  const W = chip.width;
  // Inner face region of the dlib chip (padding 0.25 → the landmarks span ~[0.17, 0.83] of the chip).
  const x0 = Math.round(W * 0.22), x1 = Math.round(W * 0.78);
  const y0 = Math.round(chip.height * 0.2), y1 = Math.round(chip.height * 0.85);
  let sum = 0, sum2 = 0, n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) { const v = lum[y * W + x]!; sum += v; sum2 += v * v; n++; }
  const m = sum / n;
  const sd = Math.sqrt(Math.max(0, sum2 / n - m * m));
  let ls = 0, ls2 = 0, ln = 0;
  for (let y = Math.max(1, y0); y < Math.min(chip.height - 1, y1); y++) {
    for (let x = Math.max(1, x0); x < Math.min(W - 1, x1); x++) {
      const i = y * W + x;
      const l = lum[i - 1]! + lum[i + 1]! + lum[i - W]! + lum[i + W]! - 4 * lum[i]!;
      ls += l; ls2 += l * l; ln++;
    }
  }
  const lm = ls / ln;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const dist = Math.hypot(cx - img.width / 2, cy - img.height / 2) / (Math.hypot(img.width, img.height) / 2);
  return {
    brightness: r3(m / 255),
    contrast: r3(sd / 255),
    // Laplacian variance over luminance variance (×1000): a blur measure that does not fall with dim light.
    sharpness: r1(((ls2 / ln - lm * lm) / Math.max(sd * sd, 1)) * 1000),
    faceSize,
    centred: r3(Math.max(0, 1 - dist)),
  };
}
