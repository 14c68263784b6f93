// A pending sign-in attempt: one verification session opened for one interaction. Keyed by the
// verification session id (what the webhook and the callback carry), with a pointer from the
// interaction so that a new attempt replaces the old one.
import type { SessionStatus } from '../../didit/index.ts';
import type { Store } from '../../store/index.ts';

export type Purpose = 'login' | 'enrol';

export type Attempt = {
  sessionId: string;
  uid: string;
  accountId: string;
  purpose: Purpose;
  created: number;
  /** The latest authoritative status (webhook or decision endpoint), null until one arrives. */
  status: SessionStatus | null;
  statusFrom?: 'webhook' | 'decision';
  statusAt?: number;
  /** When the service says the status changed (seconds); an older event never overwrites a newer one. */
  statusChangedAt?: number;
  /** When the browser first came back to the callback: the webhook wait is measured from here. */
  returnedAt?: number;
  /** Set once the interaction has been finished with this attempt; a verdict is used once. */
  used?: boolean;
};

const attemptKey = (sessionId: string) => `signin:attempt:${sessionId}`;
const currentKey = (uid: string) => `signin:attempt-of:${uid}`;

export class Attempts {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  async begin(attempt: Omit<Attempt, 'status' | 'created'>, ttl: number): Promise<Attempt> {
    const previous = await this.#store.get<string>(currentKey(attempt.uid));
    if (previous && previous !== attempt.sessionId) await this.#store.delete(attemptKey(previous));
    const record: Attempt = { ...attempt, created: Date.now(), status: null };
    await this.#store.set(attemptKey(attempt.sessionId), record, { ttl });
    await this.#store.set(currentKey(attempt.uid), attempt.sessionId, { ttl });
    return record;
  }

  get(sessionId: string): Promise<Attempt | undefined> {
    return this.#store.get<Attempt>(attemptKey(sessionId));
  }

  async current(uid: string): Promise<Attempt | undefined> {
    const sessionId = await this.#store.get<string>(currentKey(uid));
    return sessionId ? this.get(sessionId) : undefined;
  }

  /**
   * False when the attempt is gone (expired or replaced) or already knows a newer status:
   * webhooks are delivered at least once and may arrive out of order.
   */
  async recordStatus(sessionId: string, status: SessionStatus, from: 'webhook' | 'decision', changedAt: number): Promise<boolean> {
    const attempt = await this.get(sessionId);
    if (!attempt) return false;
    if (attempt.statusChangedAt !== undefined && changedAt < attempt.statusChangedAt) return false;
    return this.#store.patch(attemptKey(sessionId), { status, statusFrom: from, statusAt: Date.now(), statusChangedAt: changedAt });
  }

  async markReturned(sessionId: string): Promise<number> {
    const now = Date.now();
    await this.#store.patch(attemptKey(sessionId), { returnedAt: now });
    return now;
  }

  markUsed(sessionId: string): Promise<boolean> {
    return this.#store.patch(attemptKey(sessionId), { used: true });
  }

  /** Declined selfies in this interaction, counted across attempts. */
  countFailure(uid: string, ttl: number): Promise<number> {
    return this.#store.incr(`signin:failures:${uid}`, { ttl });
  }

  async failures(uid: string): Promise<number> {
    return Number((await this.#store.get<number>(`signin:failures:${uid}`)) ?? 0);
  }
}
