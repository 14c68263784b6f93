// The one way a stored session changes: under the session's lock, read it, let `change` decide,
// write it back, and when the status moved, queue the webhook and arm the next timer. Keeping the
// rules in `change` callbacks (lifecycle.ts) and the mechanics here means a capture finishing and
// a timer firing at the same moment cannot both win.
//
// Order: the record is saved before the webhook is queued. A crash between the two loses that one
// event (the decision endpoint still answers); the other order could announce a verdict that was
// never stored, which is worse.
import type { VerifierDeps } from '../deps.ts';
import { withLock } from '../lock.ts';
import { enqueueStatusWebhook } from '../queue/webhooks.ts';
import { rememberJob, scheduleTimersFor } from '../queue/timers.ts';
import { loadSession, saveSession } from './repo.ts';
import type { SessionRecord } from './types.ts';

export type TransitionDeps = Pick<VerifierDeps, 'store' | 'config' | 'queue'>;

export type Change = (record: SessionRecord, now: number) => SessionRecord | undefined;

export type TransitionResult = { record: SessionRecord; changed: boolean; statusChanged: boolean; eventId?: string | undefined };

/** Undefined when the session does not exist; `changed: false` when `change` declined. */
export async function updateSession(deps: TransitionDeps, sessionId: string, change: Change): Promise<TransitionResult | undefined> {
  return withLock(deps.store, `session:${sessionId}`, async () => {
    const before = await loadSession(deps.store, sessionId);
    if (!before) return undefined;
    const after = change(structuredClone(before), Date.now());
    if (!after) return { record: before, changed: false, statusChanged: false };
    await saveSession(deps.store, after, deps.config.sessionRetentionMs);
    if (after.status === before.status) return { record: after, changed: true, statusChanged: false };
    const eventId = await enqueueStatusWebhook(deps.config, deps.queue, after);
    if (eventId) await rememberJob(deps, after, eventId);
    await scheduleTimersFor(deps, after);
    return { record: after, changed: true, statusChanged: true, eventId };
  });
}
