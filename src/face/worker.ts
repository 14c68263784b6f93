/**
 * Pool worker: loads the models once, warms up, then analyses one image at a time.
 * Messages in:  { type: 'analyze', id, bytes: Uint8Array, opts }
 * Messages out: { type: 'ready', loadMs, warmMs } | { type: 'result', id, analysis } | { type: 'error', id, error }
 *               | { type: 'fatal', message } (initialisation failed; the worker then exits)
 * Never logs image bytes or embeddings.
 */
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { createAnalyzer } from './analyze.ts';
import { FaceError } from './errors.ts';
import type { AnalyzeOptions } from './types.ts';

export interface AnalyzeRequest {
  type: 'analyze';
  id: number;
  bytes: Uint8Array;
  opts: AnalyzeOptions;
}

if (!parentPort) throw new Error('worker.ts must run in a worker thread');
const port = parentPort;

// libvips' operation cache (process-wide, up to 50 MB) buys nothing here: every image is new.
sharp.cache(false);

try {
  const t0 = performance.now();
  const analyzer = await createAnalyzer({ threads: (workerData as { threads?: number } | null)?.threads ?? 1 });
  const loadMs = performance.now() - t0;
  const t1 = performance.now();
  await analyzer.warmUp();
  port.postMessage({ type: 'ready', loadMs: Math.round(loadMs), warmMs: Math.round(performance.now() - t1), backend: analyzer.runtime.backend });

  port.on('message', (msg: AnalyzeRequest) => {
    if (msg?.type !== 'analyze') return;
    analyzer.analyze(msg.bytes, msg.opts).then(
      (analysis) => port.postMessage({ type: 'result', id: msg.id, analysis },
        [analysis.embedding.buffer as ArrayBuffer, ...(analysis.legacy ? [analysis.legacy.embedding.buffer as ArrayBuffer] : [])]),
      (err: unknown) => {
        const error = err instanceof FaceError
          ? err.toJSON()
          : new FaceError('ENGINE_FAILURE', err instanceof Error ? err.message : String(err)).toJSON();
        port.postMessage({ type: 'error', id: msg.id, error });
      },
    );
  });
} catch (err) {
  port.postMessage({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
