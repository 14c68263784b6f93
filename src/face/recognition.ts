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

interface Conv { filter: T4; bias: TfCore.Tensor1D; stride: 1 | 2; pad: 'same' | 'valid' }
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

/**
 * Weights of a face-api model as Float32Arrays, dequantised in JS (uint8/uint16 affine quantisation
 * or plain float32), so that only the folded tensors ever reach the wasm heap.
 */
export function readWeights(modelDir: string, name: string): Map<string, { data: Float32Array; shape: number[] }> {
  const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, `${name}-weights_manifest.json`), 'utf8')) as
    Array<{ paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: string; quantization?: { dtype: string; min: number; scale: number } }> }>;
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  for (const group of manifest) {
    const buf = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(modelDir, p))));
    let offset = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(n);
      const q = w.quantization;
      if (q && (q.dtype === 'uint8' || q.dtype === 'uint16')) {
        const bytes = q.dtype === 'uint8' ? 1 : 2;
        for (let i = 0; i < n; i++) {
          const v = bytes === 1 ? buf[offset + i]! : buf.readUInt16LE(offset + 2 * i);
          data[i] = v * q.scale + q.min;
        }
        offset += n * bytes;
      } else if (!q && w.dtype === 'float32') {
        for (let i = 0; i < n; i++) data[i] = buf.readFloatLE(offset + 4 * i);
        offset += n * 4;
      } else {
        throw new Error(`${name}: unsupported weight encoding for ${w.name}`);
      }
      out.set(w.name, { data, shape: w.shape });
    }
    if (offset !== buf.length) throw new Error(`${name}: weight file size does not match its manifest`);
  }
  return out;
}

function buildParams(tf: Tf, modelDir: string): { stem: Conv; blocks: Block[]; fc: TfCore.Tensor2D } {
  const map = readWeights(modelDir, 'face_recognition_model');
  const take = (name: string): { data: Float32Array; shape: number[] } => {
    const t = map.get(name);
    if (!t) throw new Error(`face_recognition_model: missing ${name}`);
    return t;
  };
  const conv = (prefix: string, stride: 1 | 2, pad: 'same' | 'valid'): Conv => {
    const f = take(`${prefix}/conv/filters`);
    const w = f.data;
    const b = take(`${prefix}/conv/bias`).data;
    const s = take(`${prefix}/scale/weights`).data;
    const beta = take(`${prefix}/scale/biases`).data;
    const out = s.length;
    const folded = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) folded[i] = w[i]! * s[i % out]!;
    const bias = new Float32Array(out);
    for (let c = 0; c < out; c++) bias[c] = b[c]! * s[c]! + beta[c]!;
    return { filter: tf.tensor4d(folded, f.shape as [number, number, number, number]), bias: tf.tensor1d(bias), stride, pad };
  };
  const stem = conv('conv32_down', 2, 'valid');
  const blocks: Block[] = BLOCKS.map(([name, down]) => ({
    conv1: conv(`${name}/conv1`, down ? 2 : 1, down ? 'valid' : 'same'),
    conv2: conv(`${name}/conv2`, 1, 'same'),
    down,
  }));
  const fcw = take('fc');
  const fc = tf.tensor2d(fcw.data, fcw.shape as [number, number]);
  return { stem, blocks, fc };
}

/** Reads face_recognition_model from `modelDir` and builds the folded network on the active backend. */
export function createRecogniser(tf: Tf, modelDir: string): Recogniser {
  // Built in a separate function so that the JS copies of the weights are not kept alive by closures.
  const { stem, blocks, fc } = buildParams(tf, modelDir);

  const apply = (x: T4, c: Conv, relu: boolean): T4 =>
    tf.fused.conv2d({ x, filter: c.filter, strides: c.stride, pad: c.pad, bias: c.bias, activation: relu ? 'relu' : 'linear' });

  const block = (x: T4, b: Block): T4 => tf.tidy(() => {
    let out = apply(apply(x, b.conv1, true), b.conv2, false);
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
        return tf.maxPool(apply(normalised, stem, true), 3, 2, 'valid');
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
