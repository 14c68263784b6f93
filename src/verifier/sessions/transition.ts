// The one way a stored session changes: under the session's lock, read it, let `change` decide,
// write it back, and when the status moved, queue the webhook and arm the next timer. Keeping the
// rules in `change` callbacks (lifecycle.ts) and the mechanics here means a capture finishing and
// a timer firing at the same moment cannot both win.
//
// Outbox: the new status, its webhook job and its next timer are saved in one atomic write
// (saveSession → Store.writeAll: one Lua script on Redis, in one Cluster slot; one SQLite
// transaction embedded). A crash before it leaves the old status and nothing to announce; after
// it, the queue finds the webhook and delivers it, from any instance, with the event_id fixed
// here. Only the queue's bucket entry is written before (JobQueue.prepare), and alone it is inert.
import type { VerifierDeps } from '../deps.ts';
import { withLock } from '../lock.ts';
import type { JobSpec } from '../queue/jobs.ts';
import { statusWebhook } from '../queue/webhooks.ts';
import { timersFor } from '../queue/timers.ts';
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
    if (after.status === before.status) {
      await saveSession(deps.store, after, deps.config.sessionRetentionMs);
      return { record: after, changed: true, statusChanged: false };
    }
    const webhook = statusWebhook(deps.config, after);
    await saveWithJobs(deps, after, [...(webhook ? [webhook.spec] : []), ...timersFor(deps.config, after)]);
    return { record: after, changed: true, statusChanged: true, eventId: webhook?.eventId };
  });
}

/** Saves the record with these jobs in one write, then lets the queue run those due now. */
export async function saveWithJobs(deps: TransitionDeps, record: SessionRecord, specs: JobSpec[]): Promise<void> {
  const prepared = await Promise.all(specs.map((spec) => deps.queue.prepare(spec)));
  await saveSession(deps.store, record, deps.config.sessionRetentionMs, prepared);
  for (const p of prepared) deps.queue.kick(p.job);
}

