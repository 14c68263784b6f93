// Decoding frames and running signals costs 80–400 ms of CPU per session: done in worker threads,
// so the HTTP event loop (and the IdP sharing the process) never waits on it. Created on first use.
import { LivenessBusyError, LivenessPool } from '../../../liveness/pool.ts';
import type { LivenessJob } from '../../../liveness/pool.ts';
import type { LivenessResult } from '../../../liveness/index.ts';
import { EngineBusy } from '../../capture/analyse-capture.ts';

let pool: LivenessPool | undefined;

/**
 * Benchmarks only: run the verifier's liveness jobs on `replacement` (bench/verifier/run.ts
 * --no-liveness-signals measures the upload with a pool that decodes and judges nothing). Before
 * the first job; the pool in use, if any, is closed.
 */
export function replaceLivenessPool(replacement: LivenessPool): void {
  void pool?.close();
  pool = replacement;
}

/** The job's result, or null when its frames do not decode (nothing to judge). Busy → EngineBusy. */
export async function runLiveness(job: LivenessJob): Promise<LivenessResult | null> {
  pool ??= new LivenessPool();
  try {
    return await pool.run(job);
  } catch (err) {
    if (err instanceof LivenessBusyError) throw new EngineBusy();
    return null;
  }
}
