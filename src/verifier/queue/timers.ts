// Lifecycle timers as durable jobs: Expired when never opened by `expires_at`, Abandoned when
// opened and not finished within the capture window. A timer is never cancelled: when it fires it
// re-checks the rule (lifecycle.ts), so one that outlived its reason does nothing.
import type { VerifierDeps } from '../deps.ts';
import { abandon, expire } from '../sessions/lifecycle.ts';
import { updateSession } from '../sessions/transition.ts';
import type { SessionRecord } from '../sessions/types.ts';
import type { JobHandler } from './jobs.ts';
import { K } from '../keys.ts';
import { recordTtlSeconds } from '../sessions/repo.ts';

export const EXPIRE_JOB = 'expire';
export const ABANDON_JOB = 'abandon';

type TimerDeps = Pick<VerifierDeps, 'store' | 'config' | 'queue'>;

/** Arm the timer the record's status calls for (ids make re-arming the same timer a no-op). */
export async function scheduleTimersFor(deps: TimerDeps, r: SessionRecord): Promise<void> {
  let id: string | undefined;
  if (r.status === 'Not Started' || r.status === 'Resubmitted') {
    id = await deps.queue.schedule(EXPIRE_JOB, { session_id: r.session_id }, r.expires_at, `expire:${r.session_id}:${r.expires_at}`);
  } else if (r.status === 'In Progress' && r.opened_at !== null) {
    const due = r.opened_at + deps.config.captureWindowMs;
    id = await deps.queue.schedule(ABANDON_JOB, { session_id: r.session_id }, due, `abandon:${r.session_id}:${r.opened_at}`);
  }
  if (id) await rememberJob(deps, r, id);
}

/** The session's jobs are listed beside it, so that deleting the session deletes them (repo.ts). */
export async function rememberJob(deps: TimerDeps, r: SessionRecord, jobId: string): Promise<void> {
  await deps.store.indexAdd(K.sessionJobs(r.session_id), jobId, { ttl: recordTtlSeconds(r, deps.config.sessionRetentionMs) });
}

export function expiryTimer(deps: TimerDeps): JobHandler {
  return async (job) => {
    await updateSession(deps, String(job.data.session_id), expire);
    return { done: true };
  };
}

export function abandonmentTimer(deps: TimerDeps): JobHandler {
  return async (job) => {
    await updateSession(deps, String(job.data.session_id), abandon(deps.config.captureWindowMs));
    return { done: true };
  };
}
