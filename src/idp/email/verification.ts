// Confirming that the person who signed up reads mail at the address they gave. After an approved
// sign-up (the face is the account's) one link goes to the address; opening it shows a confirm
// page and the confirmation (a POST, so mail scanners that fetch links confirm nothing) sets
// email_verified. The link's secret is 32 random bytes, kept in the store only as its SHA-256,
// compared in constant time, single-use (the store's atomic take), and dead after
// signup.verificationLinkHours; a new link replaces the old one. Mails per account are limited
// over an hour by the store's rate limiter (shared by every instance on one Redis).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Config } from '../../config.ts';
import type { Logger } from '../../logger.ts';
import type { RateLimiter, Store } from '../../store/index.ts';
import type { Account, Accounts } from '../accounts.ts';
import type { Mailer } from './mailer.ts';
import { confirmationMail } from './message.ts';

/** replacedHashes: the links a resend made dead, so that they are told apart from altered ones. */
type Pending = { tokenHash: string; email: string; expiresAt: number; replacedHashes?: string[] };
const KEEP_REPLACED = 5;

const pendingKey = (accountId: string) => `email-verification:${accountId}`;

const MAILS_LIMITER = 'idp:email-verification';

/** Erasure: the pending link of an account and its mail counter go with it. */
export async function forgetEmailVerification(store: Store, accountId: string): Promise<void> {
  await store.delete(pendingKey(accountId));
  // On Redis the counter is a key named after the account (the limit given here does not matter to a reset).
  await store.rateLimiter(MAILS_LIMITER, { points: 1, durationSeconds: 1 }).reset(accountId);
}

const sha256 = (token: string) => createHash('sha256').update(token).digest();

function sameHash(stored: string, token: string): boolean {
  const expected = Buffer.from(stored, 'base64url');
  const given = sha256(token);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** not-needed: confirmed already, or an account with nothing to confirm (made by `users enrol`: no unverified deadline). */
export type SendResult = { sent: 'sent' | 'not-needed' } | { sent: 'limited'; retryAfterSeconds: number };
export type CheckResult =
  | { ok: true; account: Account }
  /**
   * A link this account really had, now dead (replaced by a newer one, or past its time while its
   * record is kept): its holder may ask for a new one. Only a holder of such a token gets this.
   */
  | { ok: false; reason: 'dead'; account: Account }
  /**
   * Everything else, told apart from nothing else: no such account, a confirmed one, a made-up or
   * altered token, a used link. The answer must not say whether the account exists or its state.
   */
  | { ok: false; reason: 'refused' };

export class EmailVerification {
  readonly #store: Store;
  readonly #accounts: Accounts;
  readonly #mailer: Mailer;
  readonly #issuer: string;
  readonly #settings: Config['signup'];
  readonly #now: () => number;
  readonly #log: Logger;
  readonly #perAccount: RateLimiter;

  constructor(deps: { store: Store; accounts: Accounts; mailer: Mailer; config: Config; log: Logger; now?: () => number }) {
    this.#store = deps.store;
    this.#accounts = deps.accounts;
    this.#mailer = deps.mailer;
    this.#issuer = deps.config.issuer;
    this.#settings = deps.config.signup;
    this.#now = deps.now ?? Date.now;
    this.#log = deps.log;
    this.#perAccount = deps.store.rateLimiter(MAILS_LIMITER, { points: this.#settings.verificationMailsPerHour, durationSeconds: 3600 });
  }

  /** How long a sign-up's account may stay unconfirmed from now (its deadline). */
  unverifiedDeadline(): number {
    return this.#now() + this.#settings.unverifiedAccountDays * 24 * 3600 * 1000;
  }

  /**
   * After an approved sign-up: the first link, once per account whichever of the webhook and the
   * callback gets here first (set-if-absent). Not awaited by the request: a slow mail server does
   * not hold the user's sign-in; a failure is logged and the link removed so a resend can go.
   */
  afterEnrolment(accountId: string): void {
    void (async () => {
      const account = await this.#accounts.findById(accountId);
      if (!account || account.emailVerified || account.unverifiedUntil == null) return;
      const deadline = this.unverifiedDeadline();
      await this.#accounts.extendUnverified(account.id, deadline);
      const { token, pending } = this.#newLink(account);
      if (!(await this.#store.setIfAbsent(pendingKey(account.id), pending, { ttl: this.#recordTtl(deadline) }))) return;
      await this.#perAccount.consume(account.id);
      await this.#mail(account, token);
    })().catch((err: unknown) => this.#log.error({ accountId, err: (err as Error).message }, 'could not send the address confirmation mail'));
  }

  /**
   * A new link (the old one stops working), unless the account has nothing to confirm (confirmed,
   * or never under a deadline: `users enrol`) or is over its mails for the hour. Callers prove the
   * right to ask: the holder of a dead link (deadLink) or the signed-in account page.
   */
  async resend(account: Account): Promise<SendResult> {
    if (account.emailVerified || account.unverifiedUntil == null) return { sent: 'not-needed' };
    const budget = await this.#perAccount.consume(account.id);
    if (!budget.allowed) return { sent: 'limited', retryAfterSeconds: budget.resetSeconds };
    const { token, pending } = this.#newLink(account);
    const before = await this.#store.get<Pending>(pendingKey(account.id));
    if (before) pending.replacedHashes = [before.tokenHash, ...(before.replacedHashes ?? [])].slice(0, KEEP_REPLACED);
    await this.#store.set(pendingKey(account.id), pending, { ttl: this.#recordTtl(account.unverifiedUntil) });
    await this.#mail(account, token);
    return { sent: 'sent' };
  }

  /** Whether this link may confirm; reads only (the confirm page's GET). */
  async check(accountId: string, token: string): Promise<CheckResult> {
    const refused = { ok: false, reason: 'refused' } as const;
    const account = await this.#accounts.findById(accountId);
    if (!account || account.emailVerified || account.unverifiedUntil == null) return refused;
    const pending = await this.#store.get<Pending>(pendingKey(accountId));
    if (!pending || pending.email !== account.email) return refused;
    if (sameHash(pending.tokenHash, token)) return this.#now() >= pending.expiresAt ? { ok: false, reason: 'dead', account } : { ok: true, account };
    return (pending.replacedHashes ?? []).some((hash) => sameHash(hash, token)) ? { ok: false, reason: 'dead', account } : refused;
  }

  /** The confirmation: of concurrent posts of one link exactly one takes it; then email_verified. */
  async confirm(accountId: string, token: string): Promise<CheckResult> {
    const checked = await this.check(accountId, token);
    if (!checked.ok) return checked;
    const taken = await this.#store.take<Pending>(pendingKey(accountId));
    // Used by a concurrent post, or replaced by a resend in between: this link is spent.
    if (!taken || !sameHash(taken.tokenHash, token)) return { ok: false, reason: 'refused' };
    await this.#accounts.markEmailVerified(accountId);
    this.#log.info({ accountId }, 'email address confirmed');
    return { ok: true, account: { ...checked.account, emailVerified: true, unverifiedUntil: null } };
  }

  #ttlSeconds(): number {
    return this.#settings.verificationLinkHours * 3600;
  }

  /**
   * The pending record outlives its link (until the account's deadline, when erasure removes it
   * anyway), so that the holder of an expired link can still prove it and ask for a new one.
   */
  #recordTtl(unverifiedUntil: number | null): number {
    return Math.max(this.#ttlSeconds(), Math.ceil(((unverifiedUntil ?? 0) - this.#now()) / 1000));
  }

  #newLink(account: Account): { token: string; pending: Pending } {
    const token = randomBytes(32).toString('base64url');
    return { token, pending: { tokenHash: sha256(token).toString('base64url'), email: account.email, expiresAt: this.#now() + this.#ttlSeconds() * 1000 } };
  }

  async #mail(account: Account, token: string): Promise<void> {
    const link = `${this.#issuer}/email/verify?account=${encodeURIComponent(account.id)}&token=${token}`;
    const current = await this.#accounts.findById(account.id);
    const mail = confirmationMail({ to: account.email, name: account.name, link, linkHours: this.#settings.verificationLinkHours, removeAt: current?.unverifiedUntil ?? null });
    await this.#mailer.send({ ...mail, about: account.id });
    this.#log.info({ accountId: account.id, via: this.#mailer.description }, 'address confirmation mail sent');
  }
}
