// A pending sign-in attempt: one verification session opened for one interaction. Keyed by the
// verification session id (what the webhook and the callback carry), with a pointer from the
// interaction so that a new attempt replaces the old one.
//
// A verification session serves exactly one sign-in for its whole life. The service hands an
// unfinished session of the same account back to whoever asks (the Didit contract: "returned with
// callback/metadata updated"), so two browsers asking for the same account get the same session.
// `claim` binds a session to the first sign-in that asked, set-if-absent, and the binding is never
// re-pointed: the other sign-in gets no attempt (and never sees the capture URL). See
// docs/signin.md, "One verification session, one sign-in".
import type { SessionStatus } from '../../didit/index.ts';
import type { Store } from '../../store/index.ts';
import type { FaceThrottle } from './throttle.ts';
import type { LivenessMethod } from './acr.ts';

export type Purpose = 'login' | 'enrol';

export type Attempt = {
  sessionId: string;
  uid: string;
  accountId: string;
  purpose: Purpose;
  /** The liveness method of the workflow the session was opened with (login): PASSIVE or a challenge. */
  method?: LivenessMethod;
  /** The browser's device id (selfie_device cookie) when the session was opened: device history. */
  deviceId?: string;
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
  /**
   * Two events with the same change time (whole seconds) and different statuses: which is newer
   * is unknown, so nothing finishes until the decision endpoint says (awaitVerdict asks it).
   */
  needsDecision?: boolean;
};

const attemptKey = (sessionId: string) => `signin:attempt:${sessionId}`;
const currentKey = (uid: string) => `signin:attempt-of:${uid}`;
const ownerKey = (sessionId: string) => `signin:session-owner:${sessionId}`;
const usedKey = (sessionId: string) => `signin:verdict-used:${sessionId}`;
const declineCountedKey = (sessionId: string) => `signin:decline-counted:${sessionId}`;
/** The sessions claimed for an account's sign-ins, so that erasing the account can find them. */
const failuresKey = (uid: string) => `signin:failures:${uid}`;
const accountSessionsKey = (accountId: string) => `signin:sessions-of:${accountId}`;

export class Attempts {
  readonly #store: Store;
  /** Counts a declined login selfie against the account too (throttle.ts); absent in tools that only erase. */
  readonly #throttle: FaceThrottle | undefined;
  constructor(store: Store, throttle?: FaceThrottle) {
    this.#store = store;
    this.#throttle = throttle;
  }

  /**
   * Binds a verification session to one sign-in (interaction uid), set-if-absent. True when this
   * sign-in owns it (it just claimed it, or had claimed it before: a retry in the same sign-in).
   * The binding must outlive the session at the service, so `ttl` is the service's session
   * lifetime or more; a session bound to another sign-in must never be used by this one.
   */
  async claim(sessionId: string, uid: string, accountId: string, ttl: number): Promise<boolean> {
    if (await this.#store.setIfAbsent(ownerKey(sessionId), uid, { ttl })) {
      await this.#store.indexAdd(accountSessionsKey(accountId), sessionId, { ttl });
      return true;
    }
    return (await this.#store.get<string>(ownerKey(sessionId))) === uid;
  }

  /** Erasure: every binding, attempt and verdict mark of the account's sign-ins. */
  async forgetAccount(accountId: string): Promise<number> {
    const sessionIds = await this.#store.indexMembers(accountSessionsKey(accountId));
    const uids = (await Promise.all(sessionIds.map((id) => this.#store.get<string>(ownerKey(id))))).filter((u): u is string => typeof u === 'string');
    const keys = [...sessionIds.flatMap((id) => [ownerKey(id), attemptKey(id), usedKey(id), declineCountedKey(id)]), ...uids.flatMap((uid) => [currentKey(uid), failuresKey(uid)])];
    await this.#store.delete(...keys, accountSessionsKey(accountId));
    await this.#throttle?.forget(accountId);
    return sessionIds.length;
  }

  /**
   * Only for a session this sign-in has claimed (see `claim`). The sign-in's earlier attempts stay
   * (until the interaction expires): a verdict that arrives late must still be counted.
   */
  async begin(attempt: Omit<Attempt, 'status' | 'created'>, ttl: number): Promise<Attempt> {
    const existing = await this.get(attempt.sessionId);
    if (existing) {
      // The same session again (the service reused it for this sign-in): keep what it knows.
      await this.#store.set(currentKey(attempt.uid), attempt.sessionId, { ttl });
      return existing;
    }
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
    // A selfie that was not approved (Declined, or sent to review) counts against the sign-in's
    // tries whenever it is learnt, whether or not the browser comes back: reviews are not a free
    // way to try faces (each also fills the operator's queue).
    if (status === 'Declined' || status === 'In Review') await this.countDecline(attempt, Math.max(1, (await this.#store.ttl(attemptKey(sessionId))) ?? 1));
    if (attempt.statusChangedAt !== undefined && changedAt < attempt.statusChangedAt) return false;
    // Two statuses for one second: which came last is known only to the decision endpoint. Once
    // that is so, another webhook of the same second (even one repeating the stored status) must not
    // settle it: only the decision, or an event of a later second, does.
    if (from === 'webhook' && changedAt === attempt.statusChangedAt && attempt.status !== null && (status !== attempt.status || attempt.needsDecision)) {
      return this.#store.patch(attemptKey(sessionId), { needsDecision: true });
    }
    return this.#store.patch(attemptKey(sessionId), { status, statusFrom: from, statusAt: Date.now(), statusChangedAt: changedAt, needsDecision: false });
  }

  /**
   * Counts one declined selfie for the sign-in, and for a login also for the account (consecutive
   * failures across sign-ins, throttle.ts): once per verification session however often it is learnt.
   */
  async countDecline(attempt: Pick<Attempt, 'sessionId' | 'uid' | 'accountId' | 'purpose'>, ttl: number): Promise<void> {
    if (!(await this.#store.setIfAbsent(declineCountedKey(attempt.sessionId), true, { ttl }))) return;
    await this.#store.incr(failuresKey(attempt.uid), { ttl });
    if (attempt.purpose === 'login') await this.#throttle?.recordFailure(attempt.accountId);
  }

  async markReturned(sessionId: string): Promise<number> {
    const now = Date.now();
    await this.#store.patch(attemptKey(sessionId), { returnedAt: now });
    return now;
  }

  /**
   * Atomic: of any number of concurrent requests finishing with the same verdict, exactly one
   * gets true. The flag on the attempt record is for readers; the set-if-absent key decides.
   */
  async markUsed(sessionId: string, ttl: number): Promise<boolean> {
    if (!(await this.#store.setIfAbsent(usedKey(sessionId), true, { ttl }))) return false;
    await this.#store.patch(attemptKey(sessionId), { used: true });
    return true;
  }


  async failures(uid: string): Promise<number> {
    return Number((await this.#store.get<number>(failuresKey(uid))) ?? 0);
  }
}
