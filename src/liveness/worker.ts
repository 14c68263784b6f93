// A liveness worker: decodes the still and the burst and runs the PASSIVE signals off the HTTP
// event loop (≈ 130 ms of CPU per session that would otherwise stall every other request).
import { parentPort } from 'node:worker_threads';
import { decodeFrames, decodeRgb } from './index.ts';
import { passiveLiveness } from './passive.ts';
import type { PassiveJob } from './pool.ts';

parentPort!.on('message', async (msg: { id: number; job: PassiveJob }) => {
  try {
    const [still, frames] = await Promise.all([decodeRgb(msg.job.still), decodeFrames(msg.job.frames)]);
    const result = passiveLiveness({ still, face: msg.job.face, burst: frames, captureIndex: msg.job.captureIndex });
    parentPort!.postMessage({ id: msg.id, ok: true, result });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, message: (err as Error).message });
  }
});
