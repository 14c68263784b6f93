// Sessions in the store: the record, its token pointer and the two indexes the API needs (all
// sessions, and per vendor_data for "return the unfinished one" and list filters). Records expire
// a retention period after the session's expiry or completion, so the store does not grow forever.
import type { Json, Store, Write } from '../../store/index.ts';
import type { Job } from '../queue/jobs.ts';
import { ttlSeconds } from '../durations.ts';
import { K } from '../keys.ts';
import type { SessionRecord } from './types.ts';

type Prepared = { job: Job; write: Write };

export function recordTtlSeconds(record: SessionRecord, retentionMs: number): number {
  const end = Math.max(record.expires_at, record.completed_at ?? 0);
  return ttlSeconds(end + retentionMs - Date.now());
}

export async function loadSession(store: Store, sessionId: string): Promise<SessionRecord | undefined> {
  return store.get<SessionRecord>(K.session(sessionId));
}

export async function sessionIdForToken(store: Store, token: string): Promise<string | undefined> {
  return store.get<string>(K.token(token));
}

/**
 * Saves the record, and with it, in the same atomic write, the jobs that announce or follow from it
 * (a status webhook, a timer: JobQueue.prepare): a crash cannot keep one without the other.
 */
export async function saveSession(store: Store, record: SessionRecord, retentionMs: number, jobs: Prepared[] = []): Promise<void> {
  const ttl = recordTtlSeconds(record, retentionMs);
  await store.writeAll([
    { set: K.session(record.session_id), value: record as unknown as Json, ttl },
    ...jobs.map((p) => p.write),
    // The session's jobs are listed beside it, so that deleting the session deletes them.
    ...jobs.map((p) => ({ indexAdd: K.sessionJobs(record.session_id), member: p.job.id, ttl })),
  ]);
  // The pointer and indexes are rewritten with the record so their lifetime follows it.
  await store.set(K.token(record.session_token), record.session_id, { ttl });
  await store.indexAdd(K.allSessions(), record.session_id, { ttl });
  if (record.vendor_data !== null) await store.indexAdd(K.vendorSessions(record.vendor_data), record.session_id, { ttl });
}

export async function removeSession(store: Store, record: SessionRecord): Promise<void> {
  const sid = record.session_id;
  // Everything keyed by or pointing at the session: its page viewers, its queued timers and
  // webhooks (a webhook job holds the vendor_data), its challenge count. Queue buckets keep only
  // "due|job id" entries, which are dropped when due since their job is gone.
  const [viewers, jobs] = await Promise.all([store.indexMembers(K.sessionViewers(sid)), store.indexMembers(K.sessionJobs(sid))]);
  await store.delete(
    K.session(sid),
    K.token(record.session_token),
    ...(record.upload_id ? [K.upload(record.upload_id), K.challenge(record.upload_id)] : []),
    ...record.media.map((name) => K.media(sid, name)),
    ...viewers.map((v) => K.pageViewer(v)),
    ...jobs.map((j) => K.job(j)),
    K.sessionViewers(sid),
    K.sessionJobs(sid),
    K.challengesIssued(sid),
  );
  for (const j of jobs) await store.indexRemove(K.deadJobs(), j);
  await store.indexRemove(K.allSessions(), record.session_id);
  if (record.vendor_data !== null) await store.indexRemove(K.vendorSessions(record.vendor_data), record.session_id);
}

/**
 * Sessions of one index, newest first. Members whose record has expired are dropped from the
 * index on the way (indexes hold plain ids and cannot expire member by member).
 */
export async function sessionsIn(store: Store, indexKey: string): Promise<SessionRecord[]> {
  const ids = await store.indexMembers(indexKey);
  const records = await Promise.all(ids.map((id) => loadSession(store, id)));
  const live: SessionRecord[] = [];
  for (const [i, record] of records.entries()) {
    if (record) live.push(record);
    else await store.indexRemove(indexKey, ids[i]!);
  }
  return live.sort((a, b) => b.session_number - a.session_number);
}
