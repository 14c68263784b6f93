/**
 * The 128-d face recognition ResNet (dlib's model as shipped by face-api: face_recognition_model),
 * run with folded weights: each conv → bias → per-channel scale/offset → (relu) chain of face-api is
 * one fused conv2d here (W·s, b·s + β), and every block frees its intermediates as it goes.
 * Same numbers as face-api's FaceRecognitionNet (checked to ~1e-6 in test/face), about a third
 * faster on the wasm backend and with a much lower peak heap.
 */
import fs from 'node:fs';
import path from 'node:path';
import type * as TfCore from '@tensorflow/tfjs-core';
import type { RgbImage } from './image.ts';
import type { Tf } from './runtime.ts';

type T4 = TfCore.Tensor4D;

interface Conv { filter: T4; bias: TfCore.Tensor1D; stride: 1 | 2; pad: 'same' | 'valid'; relu: boolean }
interface Block { conv1: Conv; conv2: Conv; down: boolean }

const MEAN_RGB = [122.782, 117.001, 104.298] as const;
const BLOCKS: Array<[string, boolean]> = [
  ['conv32_1', false], ['conv32_2', false], ['conv32_3', false],
  ['conv64_down', true], ['conv64_1', false], ['conv64_2', false], ['conv64_3', false],
  ['conv128_down', true], ['conv128_1', false], ['conv128_2', false],
  ['conv256_down', true], ['conv256_1', false], ['conv256_2', false], ['conv256_down_out', true],
];

export interface Recogniser {
  /** 128-d descriptor (not normalised) of a 150×150 aligned chip. */
  embed(chip: RgbImage): Promise<Float32Array>;
  dispose(): void;
}

interface WeightEntry { name: string; shape: number[]; size: number; offset: number; quant?: { bytes: 1 | 2; scale: number; min: number } }

/**
 * The raw bytes of a face-api model (one Buffer, still uint8-quantised: 6.4 MB for the recognition net)
 * and where each weight sits in it. Weights are dequantised one at a time, on demand, so that the
 * float copies never all exist in JS at once: a worker's malloc arena keeps what it once held.
 */
export function indexWeights(modelDir: string, name: string): { buf: Buffer; entries: Map<string, WeightEntry> } {
  const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, `${name}-weights_manifest.json`), 'utf8')) as
    Array<{ paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: string; quantization?: { dtype: string; min: number; scale: number } }> }>;
  const paths = manifest.flatMap((g) => g.paths);
  const buf = paths.length === 1 ? fs.readFileSync(path.join(modelDir, paths[0]!)) : Buffer.concat(paths.map((p) => fs.readFileSync(path.join(modelDir, p))));
  const entries = new Map<string, WeightEntry>();
  let offset = 0;
  for (const w of manifest.flatMap((g) => g.weights)) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    const q = w.quantization;
    let quant: WeightEntry['quant'];
    if (q && (q.dtype === 'uint8' || q.dtype === 'uint16')) quant = { bytes: q.dtype === 'uint8' ? 1 : 2, scale: q.scale, min: q.min };
    else if (q || w.dtype !== 'float32') throw new Error(`${name}: unsupported weight encoding for ${w.name}`);
    entries.set(w.name, { name: w.name, shape: w.shape, size, offset, quant });
    offset += size * (quant ? quant.bytes : 4);
  }
  if (offset !== buf.length) throw new Error(`${name}: weight file size does not match its manifest`);
  return { buf, entries };
}

/** Dequantise one weight (uint8/uint16 affine or plain float32) into `out` (or a new array). */
export function dequantise(buf: Buffer, e: WeightEntry, out: Float32Array = new Float32Array(e.size)): Float32Array {
  const q = e.quant;
  if (q?.bytes === 1) for (let i = 0; i < e.size; i++) out[i] = buf[e.offset + i]! * q.scale + q.min;
  else if (q) for (let i = 0; i < e.size; i++) out[i] = buf.readUInt16LE(e.offset + 2 * i) * q.scale + q.min;
  else for (let i = 0; i < e.size; i++) out[i] = buf.readFloatLE(e.offset + 4 * i);
  return out;
}

/** What the wasm backend keeps per tensor (tfjs-backend-wasm 4.x internals). */
interface WasmBackendInternals {
  wasm: { _free(ptr: number): void };
  dataIdMap: { get(dataId: object): { memoryOffset: number | null } | undefined };
}

function buildParams(tf: Tf, modelDir: string, apply: (x: T4, c: Conv) => T4): { stem: Conv; blocks: Block[]; fc: TfCore.Tensor2D } {
  const { buf, entries } = indexWeights(modelDir, 'face_recognition_model');
  const take = (name: string): WeightEntry => {
    const t = entries.get(name);
    if (!t) throw new Error(`face_recognition_model: missing ${name}`);
    return t;
  };
  const wasm = tf.getBackend() === 'wasm' ? (tf.backend() as unknown as WasmBackendInternals) : undefined;
  // One scratch buffer for every folded filter: the wasm backend copies a tensor's values into its heap
  // when the tensor is made (the cpu backend keeps the array, so it gets its own copy).
  let largest = 0;
  for (const e of entries.values()) if (e.name.endsWith('/conv/filters')) largest = Math.max(largest, e.size);
  const scratch = new Float32Array(wasm ? largest : 0);
  const conv = (prefix: string, stride: 1 | 2, pad: 'same' | 'valid', relu: boolean): Conv => {
    const f = take(`${prefix}/conv/filters`);
    const b = dequantise(buf, take(`${prefix}/conv/bias`));
    const s = dequantise(buf, take(`${prefix}/scale/weights`));
    const beta = dequantise(buf, take(`${prefix}/scale/biases`));
    const out = s.length;
    // Dequantised into float32 first, then scaled: the same two roundings as face-api's scale layer.
    const folded = dequantise(buf, f, wasm ? scratch.subarray(0, f.size) : new Float32Array(f.size));
    for (let i = 0; i < f.size; i++) folded[i] = folded[i]! * s[i % out]!;
    const bias = new Float32Array(out);
    for (let c = 0; c < out; c++) bias[c] = b[c]! * s[c]! + beta[c]!;
    const c: Conv = { filter: tf.tensor4d(folded, f.shape as [number, number, number, number]), bias: tf.tensor1d(bias), stride, pad, relu };
    if (wasm) packAndRelease(tf, wasm, c, apply);
    return c;
  };
  const stem = conv('conv32_down', 2, 'valid', true);
  const blocks: Block[] = BLOCKS.map(([name, down]) => ({
    conv1: conv(`${name}/conv1`, down ? 2 : 1, down ? 'valid' : 'same', true),
    conv2: conv(`${name}/conv2`, 1, 'same', false),
    down,
  }));
  const fc = tf.tensor2d(dequantise(buf, take('fc')), take('fc').shape as [number, number]);
  return { stem, blocks, fc };
}

/**
 * XNNPACK (the wasm backend's conv kernel) packs a filter into its own layout the first time a conv
 * runs with it and caches that operator by filter id and conv parameters (not by input size); the
 * filter tensor's own copy is never read again. Run each conv once on a filter-sized input, then give
 * the filter's wasm memory back: the recognition net then costs one copy of its 25 MB of weights, not
 * two. The tensor object (its id) stays alive, since disposing it would drop the cached operator; its
 * recorded offset is cleared so that a later dispose frees nothing twice. Each Conv is only ever run
 * with the parameters it was primed with (stride, padding, activation fixed per Conv), so no second
 * operator is ever created from the released memory; test/face checks the descriptors against face-api.
 */
function packAndRelease(tf: Tf, wasm: WasmBackendInternals, c: Conv, apply: (x: T4, c: Conv) => T4): void {
  const [fh, fw, cin] = c.filter.shape;
  const x = tf.zeros([1, fh, fw, cin]) as T4;
  apply(x, c).dispose();
  x.dispose();
  const data = wasm.dataIdMap.get(c.filter.dataId);
  if (data?.memoryOffset) {
    wasm.wasm._free(data.memoryOffset);
    data.memoryOffset = 0;
  }
}

/** Reads face_recognition_model from `modelDir` and builds the folded network on the active backend. */
export function createRecogniser(tf: Tf, modelDir: string): Recogniser {
  const apply = (x: T4, c: Conv): T4 =>
    tf.fused.conv2d({ x, filter: c.filter, strides: c.stride, pad: c.pad, bias: c.bias, activation: c.relu ? 'relu' : 'linear' });
  // Built in a separate function so that the JS copies of the weights are not kept alive by closures.
  const { stem, blocks, fc } = buildParams(tf, modelDir, apply);

  const block = (x: T4, b: Block): T4 => tf.tidy(() => {
    let out = apply(apply(x, b.conv1), b.conv2);
    if (!b.down) return tf.relu(tf.add(out, x)) as T4;
    let pooled = tf.avgPool(x, 2, 2, 'valid');
    if (pooled.shape[1] !== out.shape[1] || pooled.shape[2] !== out.shape[2]) {
      // face-api pads the conv branch with one zero row and column when the shapes differ.
      out = tf.pad(out, [[0, 0], [0, pooled.shape[1] - out.shape[1]], [0, pooled.shape[2] - out.shape[2]], [0, 0]]);
    }
    if (pooled.shape[3] !== out.shape[3]) pooled = tf.pad(pooled, [[0, 0], [0, 0], [0, 0], [0, out.shape[3] - pooled.shape[3]]]);
    return tf.relu(tf.add(pooled, out)) as T4;
  });

  return {
    async embed(chip) {
      let x = tf.tidy(() => {
        const img = tf.tensor4d(Float32Array.from(chip.data), [1, chip.height, chip.width, 3]);
        const normalised = tf.div(tf.sub(img, tf.tensor1d(MEAN_RGB as unknown as number[])), 255) as T4;
        return tf.maxPool(apply(normalised, stem), 3, 2, 'valid');
      });
      for (const b of blocks) {
        const next = block(x, b);
        x.dispose();
        x = next;
      }
      const desc = tf.tidy(() => tf.matMul(tf.mean(x, [1, 2]) as TfCore.Tensor2D, fc));
      x.dispose();
      const data = (await desc.data()) as Float32Array;
      desc.dispose();
      return data;
    },
    dispose() {
      for (const c of [stem, ...blocks.flatMap((b) => [b.conv1, b.conv2])]) { c.filter.dispose(); c.bias.dispose(); }
      fc.dispose();
    },
  };
}
