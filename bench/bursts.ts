// What the capture page uploads to a LIVENESS (PASSIVE) workflow, for the benchmarks: a synthetic
// bona fide session (src/liveness/synthetic) of one identity as still + burst, as multipart/form-data
// (docs/verifier.md, "Capture upload"). A single JPEG is declined by such a workflow.
import type { FaceAnalysis } from '../src/face/index.ts';
import { decodeFrames, decodeRgb, passiveLiveness } from '../src/liveness/index.ts';
import { generatePassiveSample } from '../src/liveness/synthetic/generate.ts';
import { loadFaceSources } from '../src/liveness/synthetic/head.ts';

import type { BurstUpload } from '../test/helpers/verifier.ts';
// One definition of the upload format, shared with the tests.
export { burstForm, type BurstUpload } from '../test/helpers/verifier.ts';

/**
 * The first bona fide seed of `identity` that the face engine accepts and PASSIVE judges live (a few
 * percent of genuine synthetic sessions are not: the benchmark measures latency, not BPCER).
 */
export async function liveBurst(face: { analyze(bytes: Uint8Array): Promise<FaceAnalysis> }, identity: string, seeds = 12): Promise<BurstUpload> {
  const faces = (await loadFaceSources()).filter((f) => f.identity === identity);
  for (let seed = 1; seed <= seeds; seed++) {
    const s = await generatePassiveSample('bona_fide', seed, faces);
    const upload = { still: s.stillJpeg!, frames: s.burstJpeg!, times: s.burst.map((f) => Math.round(f.t - s.burst[0]!.t)), captureIndex: s.captureIndex };
    try {
      const a = await face.analyze(upload.still);
      const burst = await decodeFrames(upload.frames.map((bytes, i) => ({ bytes, t: upload.times[i]! })));
      const r = passiveLiveness({ still: await decodeRgb(upload.still), face: { box: a.face.box, landmarks: a.face.landmarks }, burst, captureIndex: upload.captureIndex });
      if (r.live) return upload;
    } catch {
      /* the engine refused this rendering: next seed */
    }
  }
  throw new Error(`no live bona fide burst of ${identity} in seeds 1-${seeds}`);
}

