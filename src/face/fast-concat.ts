/**
 * A faster `Concat` for tfjs' wasm backend, for the one shape that makes the stock kernel slow.
 *
 * face-api subtracts the mean colour by building a [1, h, w, 3] tensor with `concat` along the
 * channel axis (the tiny detector at 224 px, the landmark net at 112 px, on every call). The stock
 * wasm kernel copies `batch × inputs` subarrays with one `subarray` + `set` each: for a channel
 * concat that is one allocation per pixel and channel (150,000 at 224 px), ≈ 20 ms of CPU per
 * analysis. This kernel copies element by element in a tight loop when the pieces are that small;
 * anything else goes to the stock kernel. Copying is copying: the output is the same bit for bit.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import type { Tf } from './runtime.ts';

type TensorInfo = { dataId: object; shape: number[]; dtype: string };
type WasmBackend = {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
};
type ConcatArgs = { inputs: TensorInfo[]; backend: WasmBackend; attrs: { axis: number | number[] } };

/** The pieces along the axis must be at most this many elements each for the element loop. */
const SMALL_PIECE = 16;
const INSTALLED = Symbol('fast concat');

export function installFastConcat(tf: Tf): void {
  const cfg = tf.getKernel('Concat', 'wasm') as (TfCore.KernelConfig & { [INSTALLED]?: true }) | undefined;
  if (!cfg || cfg[INSTALLED]) return;
  const stock = cfg.kernelFunc as unknown as (args: ConcatArgs) => TensorInfo;
  const kernelFunc = (args: ConcatArgs): TensorInfo => {
    const { inputs, backend } = args;
    const size = (s: number[]) => tf.util.sizeFromShape(s);
    const axis = tf.util.parseAxisParam(args.attrs.axis, inputs[0]!.shape)[0]!;
    const pieces = inputs.filter((t) => size(t.shape) > 0);
    const dtype = inputs[0]!.dtype;
    if (pieces.length < 2 || pieces.some((t) => t.dtype !== dtype || t.dtype === 'string' || t.dtype === 'complex64')) return stock(args);
    const inner = pieces.map((t) => size(t.shape.slice(axis)));
    if (Math.max(...inner) > SMALL_PIECE) return stock(args);
    tf.backend_util.assertParamsConsistent(inputs.map((t) => t.shape), axis);
    const out = backend.makeOutput(tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis), dtype);
    // views taken after makeOutput (which may grow the wasm heap and detach older views)
    const dst = backend.typedArrayFromHeap(out);
    const src = pieces.map((t) => backend.typedArrayFromHeap(t));
    const batch = size(pieces[0]!.shape.slice(0, axis));
    let o = 0;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < src.length; i++) {
        const v = src[i]!, d = inner[i]!;
        for (let k = b * d, end = k + d; k < end; k++) dst[o++] = v[k]!;
      }
    }
    return out;
  };
  tf.unregisterKernel('Concat', 'wasm');
  tf.registerKernel({ ...cfg, kernelFunc: kernelFunc as unknown as TfCore.KernelFunc, [INSTALLED]: true } as TfCore.KernelConfig);
}
