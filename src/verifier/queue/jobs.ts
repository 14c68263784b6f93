// A durable job queue over the Store interface, for webhook deliveries and lifecycle timers.
//
// Why not BullMQ: it needs Redis, and the embedded default runs on the sqlite store; one small
// queue over the Store works on both, survives restarts, and is safe with several instances.
//
// Layout: each job is a record `verifier:job:<id>` holding its `due` time; the job is found through
// a time bucket (an index per minute of due time) whose member is `<due>|<id>`. A poller walks the
// buckets from a stored cursor up to now, so a verifier that was down for a day catches up on
// start. Before running a job a worker takes a short claim (setIfAbsent + TTL): of several
// instances only one runs it, and a crashed worker's claim lapses so another takes over.
//
// Scheduling within a caller's atomic write (a session's status with its webhook, Store.writeAll):
// prepare() adds the bucket member first and hands back the record's write; the caller commits it
// with its own, then kick()s. A member whose record is not there yet is left alone for the claim
// timeout (the caller may not have committed yet) and dropped after it (the caller died before
// committing, so there was nothing to announce).
//
// Order of writes when a job is rescheduled: new member, then record, then old member removed. A
// crash at any point leaves the job findable (at worst it runs once more: delivery is at least
// once); a member whose due differs from the record's is stale and is dropped.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../logger.ts';
import type { Json, JsonObject, Store, Write } from '../../store/index.ts';
import { isStoreUnavailable } from '../../store/index.ts';
import { ttlSeconds } from '../durations.ts';
import { K } from '../keys.ts';

export type Job = { id: string; kind: string; due: number; attempts: number; created: number; data: JsonObject };
/** A job to schedule; `id` makes scheduling idempotent (an event id, a timer name). */
export type JobSpec = { kind: string; data: JsonObject; due: number; id: string };

export type JobOutcome = { done: true } | { retryAt: number; reason: string } | { dead: string };
export type JobHandler = (job: Job) => Promise<JobOutcome>;

export type JobQueueOptions = {
  pollMs: number;
  claimMs: number;
  /** Jobs running at once per process. */
  concurrency?: number;
  /** How long a job record outlives its due time before the store may drop it. */
  retentionMs?: number;
  /** Width of a due-time bucket. */
  bucketMs?: number;
  /** After a handler throws (a bug, or the store is down), try again this much later. */
  errorRetryMs?: number;
};

export class JobQueue {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #claimMs: number;
  readonly #concurrency: number;
  readonly #retentionMs: number;
  readonly #bucketMs: number;
  readonly #errorRetryMs: number;
  readonly #inflight = new Map<string, Promise<void>>();
  /** Claim tokens of the jobs running here, to release them on a shutdown that cannot wait. */
  readonly #claims = new Map<string, string>();
  #handlers: Record<string, JobHandler> = {};
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #stopped = false;
  #again = false;

  constructor(store: Store, log: Logger, options: JobQueueOptions) {
    this.#store = store;
    this.#log = log;
    this.#pollMs = options.pollMs;
    this.#claimMs = options.claimMs;
    this.#concurrency = options.concurrency ?? 8;
    this.#retentionMs = options.retentionMs ?? 7 * 86_400_000;
    this.#bucketMs = options.bucketMs ?? 60_000;
    this.#errorRetryMs = options.errorRetryMs ?? 30_000;
  }

  #bucket(due: number): number {
    return Math.floor(due / this.#bucketMs);
  }

  #ttl(due: number): number {
    return ttlSeconds(Math.max(0, due - Date.now()) + this.#retentionMs);
  }

  async #addMember(id: string, due: number): Promise<void> {
    let bucket = this.#bucket(due);
    // A bucket behind the cursor would never be read again (clock skew between instances).
    const cursor = await this.#store.get<number>(K.jobCursor());
    // The cursor starts at the present, not at this job's bucket (which may be days ahead).
    if (cursor === undefined) await this.#store.setIfAbsent(K.jobCursor(), Math.min(bucket, this.#bucket(Date.now())));
    else if (bucket < cursor) bucket = cursor;
    await this.#store.indexAdd(K.jobBucket(bucket), `${due}|${id}`, { ttl: this.#ttl(due) });
  }

  /** Durably schedule a job; `id` makes scheduling idempotent (an event id, a timer name). */
  async schedule(kind: string, data: JsonObject, due: number, id: string = randomUUID()): Promise<string> {
    const { job, write } = await this.prepare({ kind, data, due, id });
    await this.#store.writeAll([write]);
    this.kick(job);
    return id;
  }

  /** The first half of scheduling inside the caller's own Store.writeAll (see the top of this file). */
  async prepare(spec: JobSpec): Promise<{ job: Job; write: Write }> {
    const job: Job = { id: spec.id, kind: spec.kind, due: Math.round(spec.due), attempts: 0, created: Date.now(), data: spec.data };
    await this.#addMember(job.id, job.due);
    return { job, write: { set: K.job(job.id), value: job as unknown as Json, ttl: this.#ttl(job.due) } };
  }

  /** After the caller's write committed: a job due now runs at once rather than at the next tick. */
  kick(job: Job): void {
    this.#kick(job.due);
  }

  /** Start polling with these handlers (one per job kind). */
  start(handlers: Record<string, JobHandler>): void {
    this.#handlers = handlers;
    this.#stopped = false;
    this.#timer = setInterval(() => this.#trigger(), this.#pollMs);
    this.#timer.unref();
    this.#trigger();
  }

  // A job due now need not wait for the next tick (the webhook of a finished capture).
  #kick(due: number): void {
    if (this.#timer && due <= Date.now()) setImmediate(() => this.#trigger());
  }

  #trigger(): void {
    if (this.#stopped) return;
    if (this.#polling) {
      this.#again = true;
      return;
    }
    this.#polling = this.poll()
      .catch((err: unknown) => {
        // While the store is away every tick fails the same way: one short line, no stack.
        if (isStoreUnavailable(err)) this.#log.warn({ err: (err as Error).message }, 'verifier queue: store unavailable; polling on');
        else this.#log.error({ err }, 'verifier queue: poll failed');
      })
      .finally(() => {
        this.#polling = undefined;
        if (this.#again) {
          this.#again = false;
          this.#trigger();
        }
      });
  }

  /**
   * Stop polling, let running jobs finish; their claims are released so nothing waits on them.
   * With a deadline (graceful shutdown), jobs still running then are released early: another
   * instance takes them at its next poll instead of after the claim timeout (at least once).
   */
  async stop(deadline?: number): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const finished = (async () => {
      await this.#polling;
      await Promise.allSettled([...this.#inflight.values()]);
    })();
    if (deadline === undefined) return finished;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, deadline - Date.now()))));
    const outcome = await Promise.race([finished.then(() => 'finished' as const), late]);
    clearTimeout(timer);
    if (outcome === 'late') await this.#releaseClaims();
  }

  async #releaseClaims(): Promise<void> {
    const claims = [...this.#claims];
    this.#log.warn({ jobs: claims.map(([id]) => id) }, 'verifier queue: shutdown deadline reached; releasing the jobs still running to other instances');
    await Promise.allSettled(
      claims.map(async ([id, token]) => {
        if ((await this.#store.get<string>(K.jobClaim(id))) === token) await this.#store.delete(K.jobClaim(id));
      }),
    );
  }

  /** One pass over the due buckets; resolves when due jobs have been started (not finished). */
  async poll(): Promise<void> {
    const now = Date.now();
    const nowBucket = this.#bucket(now);
    const cursor = (await this.#store.get<number>(K.jobCursor())) ?? nowBucket;
    let advanceTo = cursor;
    let blocked = false;
    for (let bucket = cursor; bucket <= nowBucket; bucket++) {
      const members = await this.#store.indexMembers(K.jobBucket(bucket));
      if (members.length === 0 && !blocked && bucket < nowBucket) advanceTo = bucket + 1;
      if (members.length > 0) blocked = true;
      for (const member of members) {
        const sep = member.indexOf('|');
        const due = Number(member.slice(0, sep));
        const id = member.slice(sep + 1);
        if (due > now || this.#inflight.has(id)) continue;
        if (this.#stopped || this.#inflight.size >= this.#concurrency) break;
        const run = this.#run(bucket, member, id, due)
          // A store that fails mid-run (Redis restarting) leaves the job and its claim as they were:
          // the claim lapses and the job runs again (at least once, same event_id). Nothing to
          // throw to: this promise is only awaited by stop().
          .catch((err: unknown) => this.#log.warn({ err, job: id }, 'verifier queue: job run interrupted by the store; it runs again once its claim lapses'))
          .finally(() => {
            const wasFull = this.#inflight.size >= this.#concurrency;
            this.#inflight.delete(id);
            // Jobs were left waiting for a free slot: look again now rather than at the next tick.
            if (wasFull) this.#trigger();
          });
        this.#inflight.set(id, run);
      }
    }
    // Only empty buckets are passed over; a bucket still holding anything is read again.
    if (advanceTo > cursor) await this.#store.set(K.jobCursor(), advanceTo);
  }

  async #run(bucket: number, member: string, id: string, due: number): Promise<void> {
    const claimKey = K.jobClaim(id);
    const token = randomUUID();
    if (!(await this.#store.setIfAbsent(claimKey, token, { ttl: ttlSeconds(this.#claimMs) }))) return;
    this.#claims.set(id, token);
    try {
      const job = await this.#store.get<Job>(K.job(id));
      // Prepared, not committed (yet): its writer may still be on the way; give up on it only later.
      if (!job && Date.now() - due < this.#claimMs) return;
      if (!job || job.due !== due) {
        await this.#store.indexRemove(K.jobBucket(bucket), member);
        return;
      }
      const handler = this.#handlers[job.kind];
      let outcome: JobOutcome;
      if (!handler) outcome = { dead: `no handler for job kind ${job.kind}` };
      else {
        try {
          outcome = await handler(job);
        } catch (err) {
          this.#log.error({ err, job: job.id, kind: job.kind }, 'verifier queue: job failed; will retry');
          outcome = { retryAt: Date.now() + this.#errorRetryMs, reason: 'handler error' };
        }
      }
      if ('done' in outcome) {
        await this.#store.delete(K.job(id));
      } else if ('retryAt' in outcome) {
        const next: Job = { ...job, due: Math.round(outcome.retryAt), attempts: job.attempts + 1 };
        await this.#addMember(id, next.due);
        await this.#store.set(K.job(id), next as unknown as Json, { ttl: this.#ttl(next.due) });
      } else {
        this.#log.error({ job: job.id, kind: job.kind, attempts: job.attempts + 1, reason: outcome.dead }, 'verifier queue: job given up');
        await this.#store.set(K.job(id), { ...job, attempts: job.attempts + 1, dead: outcome.dead } as unknown as Json, { ttl: ttlSeconds(this.#retentionMs) });
        await this.#store.indexAdd(K.deadJobs(), id, { ttl: ttlSeconds(this.#retentionMs) });
      }
      await this.#store.indexRemove(K.jobBucket(bucket), member);
    } finally {
      this.#claims.delete(id);
      if ((await this.#store.get<string>(claimKey)) === token) await this.#store.delete(claimKey);
    }
  }
}
