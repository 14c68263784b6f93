/**
 * The reference pipeline the engine is measured against: @vladmandic/face-api's standard
 * SSD MobileNet v1 detector + 68-landmark net + recognition net, one `detectAllFaces(...)
 * .withFaceLandmarks().withFaceDescriptors()` call per image, in-process on the same wasm backend.
 */
import sharp from 'sharp';
import { l2normalise } from '../../src/face/vector.ts';
import { loadRuntime, type Runtime } from '../../src/face/runtime.ts';

export interface ReferencePipeline {
  runtime: Runtime;
  /** Embedding of the largest face, or undefined when no face is found; also the face count. */
  analyze(bytes: Uint8Array): Promise<{ embedding: Float32Array | undefined; faces: number }>;
}

export async function createReference(): Promise<ReferencePipeline> {
  const rt = await loadRuntime(['ssdMobilenetv1', 'faceLandmark68Net', 'faceRecognitionNet']);
  const { tf, faceapi } = rt;
  const options = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 });
  return {
    runtime: rt,
    async analyze(bytes) {
      const { data, info } = await sharp(bytes).autoOrient().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const t = tf.tensor3d(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), [info.height, info.width, 3], 'int32');
      try {
        const res = await faceapi.detectAllFaces(t as never, options).withFaceLandmarks().withFaceDescriptors();
        if (!res.length) return { embedding: undefined, faces: 0 };
        const best = res.reduce((a, b) => (b.detection.box.area > a.detection.box.area ? b : a));
        return { embedding: l2normalise(best.descriptor), faces: res.length };
      } finally {
        t.dispose();
      }
    },
  };
}
