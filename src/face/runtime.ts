/**
 * Loads TensorFlow.js (wasm backend) and the face-api networks from node_modules. Runs inside a pool
 * worker (or in-process for benchmarks). Nothing is fetched from the network: the .wasm binaries and
 * model weights are read from disk.
 *
 * `@vladmandic/face-api`'s Node wasm build does `require('@tensorflow/tfjs')` (the umbrella package,
 * which drags in layers/data/webgl we do not need). We map that one specifier to `@tensorflow/tfjs-core`
 * with a synchronous module hook (per thread) and register the few "chained" Tensor methods face-api
 * calls (`t.as3D()`, `t.toFloat()` ...) that the umbrella package would have registered.
 */
import { createRequire, registerHooks } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import type * as FaceApi from '@vladmandic/face-api';
import type * as TfCore from '@tensorflow/tfjs-core';
import { installFastConcat } from './fast-concat.ts';

export type Tf = typeof TfCore;
export type FaceApiModule = typeof FaceApi;

export interface Runtime {
  tf: Tf;
  faceapi: FaceApiModule;
  backend: string;
  /** Milliseconds spent loading the backend and the weights. */
  loadMs: number;
}

const require = createRequire(import.meta.url);
let hooked = false;
let runtimePromise: Promise<Runtime> | undefined;

export type NetName = 'tinyFaceDetector' | 'ssdMobilenetv1' | 'faceLandmark68Net' | 'faceLandmark68TinyNet' | 'faceRecognitionNet';

const WEIGHT_FILES: Record<NetName, string> = {
  tinyFaceDetector: 'tiny_face_detector_model',
  ssdMobilenetv1: 'ssd_mobilenetv1_model',
  faceLandmark68Net: 'face_landmark_68_model',
  faceLandmark68TinyNet: 'face_landmark_68_tiny_model',
  faceRecognitionNet: 'face_recognition_model',
};

export function modelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

function wasmDir(): string {
  // main is dist/tf-backend-wasm.node.js; the .wasm files sit beside it.
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
}

function installHook(): void {
  if (hooked) return;
  hooked = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === '@tensorflow/tfjs') return nextResolve('@tensorflow/tfjs-core', context);
      return nextResolve(specifier, context);
    },
  });
}

/** The chained Tensor methods face-api relies on (normally registered by @tensorflow/tfjs). */
function registerChainedOps(tf: Tf): void {
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const ops = tf as unknown as Record<string, (...a: unknown[]) => unknown>;
  type T = TfCore.Tensor;
  const special: Record<string, (this: T, ...a: never[]) => unknown> = {
    as1D(this: T) { return tf.reshape(this, [this.size]); },
    as2D(this: T, r: number, c: number) { return tf.reshape(this, [r, c]); },
    as3D(this: T, r: number, c: number, d: number) { return tf.reshape(this, [r, c, d]); },
    as4D(this: T, r: number, c: number, d: number, e: number) { return tf.reshape(this, [r, c, d, e]); },
    asScalar(this: T) { return tf.reshape(this, []); },
    asType(this: T, dtype: TfCore.DataType) { return tf.cast(this, dtype); },
    toFloat(this: T) { return tf.cast(this, 'float32'); },
    toInt(this: T) { return tf.cast(this, 'int32'); },
    flatten(this: T) { return tf.reshape(this, [this.size]); },
    concat(this: T, x: T | T[], axis?: number) { return tf.concat([this, ...(Array.isArray(x) ? x : [x])], axis); },
    stack(this: T, x: T, axis?: number) { return tf.stack([this, x], axis); },
  };
  for (const [name, fn] of Object.entries(special)) if (!(name in proto)) proto[name] = fn;
  const generic = [
    'abs', 'add', 'all', 'any', 'argMax', 'argMin', 'avgPool', 'batchNorm', 'cast', 'clipByValue', 'conv2d',
    'depthwiseConv2d', 'div', 'equal', 'exp', 'expandDims', 'floor', 'gather', 'greater', 'less', 'log', 'matMul',
    'max', 'maxPool', 'maximum', 'mean', 'min', 'minimum', 'mul', 'neg', 'pad', 'pow', 'relu', 'reshape',
    'resizeBilinear', 'round', 'separableConv2d', 'sigmoid', 'sign', 'slice', 'softmax', 'split', 'sqrt',
    'square', 'squeeze', 'sub', 'sum', 'tile', 'transpose', 'unstack', 'where',
  ];
  for (const name of generic) {
    const op = ops[name];
    if (!(name in proto) && typeof op === 'function') {
      proto[name] = function (this: T, ...args: unknown[]) { return op(this, ...args); };
    }
  }
}

function loadWeights(rt: Runtime, net: NetName): void {
  const dir = modelDir();
  const base = WEIGHT_FILES[net];
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, `${base}-weights_manifest.json`), 'utf8')) as
    Array<{ paths: string[]; weights: TfCore.io.WeightsManifestEntry[] }>;
  const chunks = manifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
  const all = Buffer.concat(chunks);
  const ab = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  const weightMap = rt.tf.io.decodeWeights(ab, manifest.flatMap((g) => g.weights));
  (rt.faceapi.nets[net] as unknown as { loadFromWeightMap(m: TfCore.NamedTensorMap): void }).loadFromWeightMap(weightMap);
}

/**
 * Initialise tfjs + face-api once per thread and load the given nets.
 * `backend` defaults to 'wasm'; 'cpu' (pure JS) is supported for comparison.
 */
export async function loadRuntime(nets: NetName[], backend: 'wasm' | 'cpu' = 'wasm'): Promise<Runtime> {
  if (!runtimePromise) {
    runtimePromise = (async () => {
      const t0 = performance.now();
      installHook();
      const tf = require('@tensorflow/tfjs-core') as Tf;
      registerChainedOps(tf);
      const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(p: string): void };
      wasm.setWasmPaths(wasmDir());
      if (backend === 'cpu') require('@tensorflow/tfjs-backend-cpu');
      const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApiModule;
      if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} unavailable`);
      await tf.ready();
      tf.enableProdMode();
      if (tf.getBackend() === 'wasm') installFastConcat(tf);
      return { tf, faceapi, backend: tf.getBackend(), loadMs: performance.now() - t0 };
    })();
  }
  const rt = await runtimePromise;
  const t0 = performance.now();
  for (const n of nets) {
    if (!(rt.faceapi.nets[n] as unknown as { isLoaded: boolean }).isLoaded) loadWeights(rt, n);
  }
  rt.loadMs += performance.now() - t0;
  return rt;
}
