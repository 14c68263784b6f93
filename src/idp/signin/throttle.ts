// Face throttling per account (NIST SP 800-63B 5.2.3): consecutive declined selfies of an account,
// across every sign-in, browser and instance, kept in the store with no expiry.
//
//   failures < freeFailures (10)        → no wait
//   failures = n ≥ freeFailures          → the next attempt waits firstDelaySeconds · 2^(n − freeFailures)
//                                          after the last failure (30 s, 60 s, 120 s …, capped at
//                                          maxDelaySeconds), and only one attempt per failure count
//                                          (a "turn", so parallel sign-ins cannot multiply tries)
//   failures ≥ disableAfter (100)        → face sign-in disabled until an operator unlocks it
//                                          (`selfie-idp users unlock`) or another factor succeeds
//
// An approved selfie (or another factor) resets everything. Declines are counted by
// Attempts.countDecline, once per verification session however the verdict is learnt.
import type { Store } from '../../store/index.ts';

export type ThrottleSettings = {
  /** Consecutive failures allowed with no wait. */
  freeFailures: number;
  firstDelaySeconds: number;
  /** The doubling stops here (the issue is silent; without a cap 20 failures would mean 8 hours, 30 a year). */
  maxDelaySeconds: number;
  /** Consecutive failures that disable face sign-in for the account. */
  disableAfter: number;
};

export type FaceState = {
  failures: number;
  /** Epoch ms of the latest counted failure, null when none. */
  lastFailureAt: number | null;
  disabled: boolean;
  /** Seconds before the next attempt may start (0: now; not meaningful when disabled). */
  waitSeconds: number;
  /** Epoch ms when the next attempt may start, null when there is no wait now. */
  retryAt: number | null;
  /** The earliest start of the next attempt by the schedule (last failure + delay), past or not; null below the free failures. */
  nextAttemptAt: number | null;
};

const failuresKey = (accountId: string) => `signin:face-failures:${accountId}`;
const lastFailureKey = (accountId: string) => `signin:face-last-failure:${accountId}`;
const turnKey = (accountId: string, failures: number) => `signin:face-turn:${accountId}:${failures}`;
const turnSessionKey = (accountId: string, failures: number) => `signin:face-turn-session:${accountId}:${failures}`;
/** How long one throttled attempt holds its turn: long enough to finish a capture, short enough not to lock out an abandoned one for long. */
export const TURN_SECONDS = 600;

/** The wait before the attempt that follows `failures` consecutive failures. */
export function delaySeconds(settings: ThrottleSettings, failures: number): number {
  if (failures < settings.freeFailures) return 0;
  const exponent = failures - settings.freeFailures;
  // 2^exponent overflows nothing below the cap: stop doubling once it is reached.
  const delay = exponent >= 40 ? Infinity : settings.firstDelaySeconds * 2 ** exponent;
  return Math.min(delay, settings.maxDelaySeconds);
}

export class FaceThrottle {
  readonly #store: Store;
  readonly settings: ThrottleSettings;
  readonly #now: () => number;

  constructor(store: Store, settings: ThrottleSettings, now: () => number = Date.now) {
    this.#store = store;
    this.settings = settings;
    this.#now = now;
  }

  async state(accountId: string): Promise<FaceState> {
    const failures = Number((await this.#store.get<number>(failuresKey(accountId))) ?? 0);
    const last = await this.#store.get<number>(lastFailureKey(accountId));
    const lastFailureAt = typeof last === 'number' ? last : null;
    const disabled = failures >= this.settings.disableAfter;
    const delay = delaySeconds(this.settings, failures);
    const nextAttemptAt = delay > 0 && lastFailureAt !== null ? lastFailureAt + delay * 1000 : null;
    const waitSeconds = nextAttemptAt === null ? 0 : Math.max(0, Math.ceil((nextAttemptAt - this.#now()) / 1000));
    return { failures, lastFailureAt, disabled, waitSeconds, retryAt: waitSeconds > 0 ? nextAttemptAt : null, nextAttemptAt };
  }

  /** One more consecutive failure (atomic across instances). */
  async recordFailure(accountId: string): Promise<FaceState> {
    await this.#store.incr(failuresKey(accountId));
    await this.#store.set(lastFailureKey(accountId), this.#now());
    return this.state(accountId);
  }

  /**
   * Past the free failures, one attempt per failure count: set-if-absent, held by the sign-in
   * (interaction uid) that took it, which may start again (a capture it did not finish).
   */
  async takeTurn(accountId: string, failures: number, uid: string): Promise<boolean> {
    if (failures < this.settings.freeFailures) return true;
    if (await this.#store.setIfAbsent(turnKey(accountId, failures), uid, { ttl: TURN_SECONDS })) return true;
    return (await this.#store.get<string>(turnKey(accountId, failures))) === uid;
  }

  /**
   * A turn is one selfie: the first verification session its sign-in opens (set-if-absent). The
   * turn's sign-in may come back to that session, but not open another one (another workflow, e.g.
   * after dropping the device cookie, would be a second selfie for one turn: found by probing).
   */
  async bindTurnSession(accountId: string, failures: number, sessionId: string): Promise<boolean> {
    if (failures < this.settings.freeFailures) return true;
    if (await this.#store.setIfAbsent(turnSessionKey(accountId, failures), sessionId, { ttl: TURN_SECONDS })) return true;
    return (await this.#store.get<string>(turnSessionKey(accountId, failures))) === sessionId;
  }

  /** Seconds left on another sign-in's turn (what that one may still take). */
  async turnSecondsLeft(accountId: string, failures: number): Promise<number> {
    return Math.max(1, (await this.#store.ttl(turnKey(accountId, failures))) ?? 1);
  }

  /** A success (face or another factor) or an operator's unlock. */
  async reset(accountId: string): Promise<void> {
    const failures = Number((await this.#store.get<number>(failuresKey(accountId))) ?? 0);
    await this.#store.delete(failuresKey(accountId), lastFailureKey(accountId), turnKey(accountId, failures), turnSessionKey(accountId, failures));
  }

  /** Erasure: the same as a reset. */
  forget(accountId: string): Promise<void> {
    return this.reset(accountId);
  }
}

/** "30 seconds", "4 minutes", "3 hours": what the user is told to wait, nothing more. */
export function describeWait(seconds: number): string {
  if (seconds < 120) return `${seconds} ${seconds === 1 ? 'second' : 'seconds'}`;
  if (seconds < 2 * 3600) return `${Math.ceil(seconds / 60)} minutes`;
  return `${Math.ceil(seconds / 3600)} hours`;
}

export const faceWaitMessage = (seconds: number) => `You can try again in ${describeWait(seconds)}.`;
export const FACE_DISABLED = 'Signing in with your face is not available for this account right now. Ask your administrator to restore it.';
