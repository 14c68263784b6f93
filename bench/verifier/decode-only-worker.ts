// A liveness worker for the cost floor (docs/liveness.md, "Cost", "Third pass"): it decodes a
// PASSIVE job's still and burst exactly as src/liveness/worker.ts does, then judges nothing (no
// signal applies, so the result is the neutral score of an empty combination). What the verifier
// spends around it (the upload, the frame checks, the face engine, the verdict, the webhook) is
// unchanged, so a run with it is what any liveness signal has to fit on top of. Never shipped:
// only bench/verifier/run.ts and bench/login/run.ts load it (--no-liveness-signals).
import { parentPort } from 'node:worker_threads';
import { decodeFrames, decodeRgb } from '../../src/liveness/index.ts';
import { combine } from '../../src/liveness/combine.ts';
import type { LivenessJob } from '../../src/liveness/pool.ts';

parentPort!.on('message', async (msg: { id: number; job: LivenessJob }) => {
  try {
    if (msg.job.kind && msg.job.kind !== 'PASSIVE') throw new Error('the decode-only worker takes PASSIVE jobs only');
    await Promise.all([decodeRgb(msg.job.still), decodeFrames(msg.job.frames)]);
    parentPort!.postMessage({ id: msg.id, ok: true, result: combine('PASSIVE', [], 0) });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, message: (err as Error).message });
  }
});
