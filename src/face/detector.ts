/**
 * face-api's tiny face detector, forward pass only, with the same ops in the same order (so the same
 * numbers, bit for bit) but freeing each layer's output as soon as the next one exists. face-api runs
 * the whole net inside one `tf.tidy`, so every layer's output (six 6 MB tensors for the first layer
 * alone at 320 px) stays allocated until the end; on the wasm backend that peak becomes permanent
 * heap (wasm memory never shrinks). Installed on the `tinyFaceDetector` instance; face-api's box
 * decoding and non-max suppression are unchanged.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import type { Tf } from './runtime.ts';

type T4 = TfCore.Tensor4D;
interface ConvParams { filters: T4; bias: TfCore.Tensor1D }
interface SeparableParams { depthwise_filter: T4; pointwise_filter: T4; bias: TfCore.Tensor1D }
interface TinyParams {
  conv0: ConvParams;
  conv1: SeparableParams; conv2: SeparableParams; conv3: SeparableParams; conv4: SeparableParams; conv5: SeparableParams;
  conv6?: SeparableParams; conv7?: SeparableParams;
  conv8: ConvParams;
}
interface NetInputLike { toBatchTensor(size: number, centre: boolean): T4 }
export interface TinyDetectorLike {
  params: unknown;
  config: { meanRgb?: [number, number, number]; withSeparableConvs?: boolean; isFirstLayerConv2d?: boolean };
  forwardInput(input: NetInputLike, inputSize: number): T4;
}

/** Replace `net.forwardInput` by the frugal forward pass. Returns face-api's original (for tests). */
const ORIGINAL = Symbol('face-api forwardInput');

export function installFrugalForward(tf: Tf, net: TinyDetectorLike): TinyDetectorLike['forwardInput'] {
  const tagged = net as TinyDetectorLike & { [ORIGINAL]?: TinyDetectorLike['forwardInput'] };
  if (tagged[ORIGINAL]) return tagged[ORIGINAL];
  const original = net.forwardInput;
  tagged[ORIGINAL] = original;
  const c = net.config;
  if (!c.withSeparableConvs || !c.isFirstLayerConv2d || !c.meanRgb) throw new Error('tiny face detector: unexpected configuration');
  const meanRgb = c.meanRgb;

  /** x → f(x), x disposed. */
  const then = (x: T4, f: (x: T4) => T4): T4 => { const y = f(x); x.dispose(); return y; };

  /** face-api's leaky relu: relu(x − 0.1x) + 0.1x, freeing as it goes. Consumes x. */
  const leaky = (x: T4): T4 => {
    const a = tf.scalar(0.10000000149011612);
    const t = tf.mul(x, a) as T4;
    a.dispose();
    const s = then(x, (v) => tf.sub(v, t) as T4);
    const r = then(s, (v) => tf.relu(v) as T4);
    const out = then(r, (v) => tf.add(v, t) as T4);
    t.dispose();
    return out;
  };
  /** conv2d (stride 1) + bias. Consumes x. */
  const conv = (x: T4, p: ConvParams, pad: 'same' | 'valid'): T4 => then(then(x, (v) => tf.conv2d(v, p.filters, [1, 1], pad)), (v) => tf.add(v, p.bias) as T4);
  /** pad 1 → separable conv → bias → leaky relu. Consumes x. */
  const separable = (x: T4, p: SeparableParams): T4 => {
    let y = then(x, (v) => tf.pad(v, [[0, 0], [1, 1], [1, 1], [0, 0]]));
    y = then(y, (v) => tf.separableConv2d(v, p.depthwise_filter, p.pointwise_filter, [1, 1], 'valid'));
    y = then(y, (v) => tf.add(v, p.bias) as T4);
    return leaky(y);
  };
  const pool = (x: T4, stride: 1 | 2): T4 => then(x, (v) => tf.maxPool(v, [2, 2], [stride, stride], 'same'));

  net.forwardInput = function (input: NetInputLike, inputSize: number): T4 {
    const p = net.params as TinyParams | undefined;
    if (!p) throw new Error('TinyYolov2 - load model before inference');
    // Everything inside one tidy as in face-api (the ops' own internals are released at the end), but
    // each intermediate is disposed explicitly as soon as it has been consumed.
    return tf.tidy(() => {
      let x = tf.cast(input.toBatchTensor(inputSize, false), 'float32') as T4;
      // face-api's mean subtraction: a [n,h,w,3] tensor of the three means, subtracted.
      x = then(x, (v) => tf.tidy(() => {
        const fill = (m: number) => tf.fill([...v.shape.slice(0, 3), 1], m, 'float32');
        return tf.sub(v, tf.concat([fill(meanRgb[0]), fill(meanRgb[1]), fill(meanRgb[2])], 3)) as T4;
      }));
      x = then(x, (v) => tf.div(v, 255) as T4);
      x = leaky(conv(x, p.conv0, 'valid'));
      x = pool(x, 2);
      x = pool(separable(x, p.conv1), 2);
      x = pool(separable(x, p.conv2), 2);
      x = pool(separable(x, p.conv3), 2);
      x = pool(separable(x, p.conv4), 2);
      x = pool(separable(x, p.conv5), 1);
      if (p.conv6) x = separable(x, p.conv6);
      if (p.conv7) x = separable(x, p.conv7);
      return conv(x, p.conv8, 'valid');
    });
  };
  return original;
}
