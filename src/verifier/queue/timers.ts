// Lifecycle timers as durable jobs: Expired when never opened by `expires_at`, Abandoned when
// opened and not finished within the capture window. A timer is never cancelled: when it fires it
// re-checks the rule (lifecycle.ts), so one that outlived its reason does nothing.
import type { VerifierDeps } from '../deps.ts';
import { abandon, expire } from '../sessions/lifecycle.ts';
import { updateSession } from '../sessions/transition.ts';
import type { SessionRecord } from '../sessions/types.ts';
import type { JobHandler, JobSpec } from './jobs.ts';
import { sessionJobId } from '../keys.ts';

export const EXPIRE_JOB = 'expire';
export const ABANDON_JOB = 'abandon';

type TimerDeps = Pick<VerifierDeps, 'store' | 'config' | 'queue'>;

/** The timer the record's status calls for, saved with the record (ids make re-arming the same timer a no-op). */
export function timersFor(config: VerifierDeps['config'], r: SessionRecord): JobSpec[] {
  if (r.status === 'Not Started' || r.status === 'Resubmitted') {
    return [{ kind: EXPIRE_JOB, data: { session_id: r.session_id }, due: r.expires_at, id: sessionJobId(r.session_id, `expire:${r.expires_at}`) }];
  }
  if (r.status === 'In Progress' && r.opened_at !== null) {
    const due = r.opened_at + config.captureWindowMs;
    return [{ kind: ABANDON_JOB, data: { session_id: r.session_id }, due, id: sessionJobId(r.session_id, `abandon:${r.opened_at}`) }];
  }
  return [];
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
