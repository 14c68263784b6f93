// The slice of the face engine the verifier uses, and a handle that starts the real engine on
// first use. Production warms it at start-up; a test file creates one engine and shares it; a
// test that never sends an image never pays for the model load.
import { createFaceEngine } from '../face/index.ts';
import type { FaceEngine, FaceEngineOptions } from '../face/index.ts';

export type FacePort = Pick<FaceEngine, 'analyze'>;

export type FaceHandle = FacePort & {
  /** Start the engine now (at start-up) instead of on the first image. */
  warm(): Promise<void>;
  close(): Promise<void>;
};

export function lazyFaceEngine(options: FaceEngineOptions = {}): FaceHandle {
  let engine: Promise<FaceEngine> | undefined;
  const get = () => {
    engine ??= createFaceEngine(options);
    // A failed start is not cached: the next image tries again.
    engine.catch(() => {
      engine = undefined;
    });
    return engine;
  };
  return {
    analyze: async (bytes, opts) => (await get()).analyze(bytes, opts),
    warm: async () => {
      await get();
    },
    close: async () => {
      const e = engine;
      engine = undefined;
      if (e) await (await e.catch(() => undefined))?.close();
    },
  };
}
