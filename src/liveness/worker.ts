// A liveness worker: decodes the images of a job and runs its method's signals off the HTTP event
// loop (PASSIVE ≈ 80 ms, FLASHING ≈ 400 ms of CPU per session that would otherwise stall every
// other request).
import { parentPort } from 'node:worker_threads';
import { decodeFrames, decodeRgb } from './index.ts';
import { active3dLiveness, flashingLiveness } from './methods.ts';
import { passiveLiveness } from './passive.ts';
import type { LivenessJob } from './pool.ts';
import type { LivenessResult } from './types.ts';

async function run(job: LivenessJob): Promise<LivenessResult> {
  switch (job.kind) {
    case 'FLASHING': {
      const [still, frames] = await Promise.all([decodeRgb(job.still), decodeFrames(job.frames)]);
      return flashingLiveness({ challenge: job.challenge, frames, face: job.face, still, stillFace: job.stillFace, embeddings: job.embeddings, reference: job.reference });
    }
    case 'ACTIVE_3D': {
      const still = await decodeRgb(job.still);
      return active3dLiveness({ challenge: job.challenge, samples: job.samples, reference: job.reference, still, stillFace: job.stillFace });
    }
    default: {
      const [still, frames] = await Promise.all([decodeRgb(job.still), decodeFrames(job.frames)]);
      return passiveLiveness({ still, face: job.face, burst: frames, captureIndex: job.captureIndex, screenPattern: job.screenPattern });
    }
  }
}

parentPort!.on('message', async (msg: { id: number; job: LivenessJob }) => {
  try {
    parentPort!.postMessage({ id: msg.id, ok: true, result: await run(msg.job) });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, message: (err as Error).message });
  }
});
