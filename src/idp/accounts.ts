// Accounts: the people who can sign in. The face template itself belongs to the verifier;
// an account only records that enrolment happened.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/index.ts';
import { forgetConsoleSessions } from './admin/session.ts';
import { AuditLog, auditSubject } from './audit.ts';

export type Account = {
  id: string;
  email: string;
  name: string;
  emailVerified: boolean;
  created: number;
  enrolledAt: number | null;
  /**
   * Accounts made by sign-up: until when the address may stay unconfirmed; past it the account is
   * erased (src/idp/email/expiry.ts). Absent for accounts the operator made and once confirmed.
   */
  unverifiedUntil?: number | null;
  /** Set when erasure starts: from then on the account is not found (users delete finishes it). */
  erasing?: boolean;
  /** May enter the operator console (users grant-operator / revoke-operator). */
  operator?: boolean;
  /**
   * Set by a reset of the enrolment (the face was removed: the console's, or the person's own
   * "Re-enrol my face"): the next enrolment of this account completes only in the sign-in that
   * was authorised for it (mayReenrol), which is one that proved a passkey of the account,
   * or the one that redeemed `grant`: a single-use token handed to the person who was proven (the
   * browser that pressed re-enrol, or whoever opened the operator's one-time link). Only the
   * token's SHA-256 is kept. Knowing the email is never enough.
   */
  enrolmentReset?: { at: number; grant?: { hash: string; until: number } | null } | null;
};

const accountKey = (id: string) => `account:${id}`;
const emailKey = (email: string) => `account-email:${normaliseEmail(email)}`;
const enrolmentKey = (id: string) => `account-enrolment:${id}`;
/** The sign-in (interaction uid) allowed to enrol an account whose enrolment was reset. */
const reenrolmentKey = (id: string) => `enrolment-reset:signin:${id}`;
const sha256 = (token: string) => createHash('sha256').update(token).digest();
const ALL_ACCOUNTS = 'accounts';
/** Accounts with an unverifiedUntil: what the expiry sweep reads (not every account). */
const UNVERIFIED_ACCOUNTS = 'accounts:unverified';

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class Accounts {
  readonly #store: Store;
  readonly #audit: AuditLog;
  constructor(store: Store) {
    this.#store = store;
    this.#audit = new AuditLog(store);
  }

  /** Undefined for an account being erased, unless asked for (erasure itself, resumed after a crash). */
  async findById(id: string, { includeErasing = false } = {}): Promise<Account | undefined> {
    const account = await this.#store.get<Account>(accountKey(id));
    return account && (!account.erasing || includeErasing) ? account : undefined;
  }

  async findByEmail(email: string, options: { includeErasing?: boolean } = {}): Promise<Account | undefined> {
    const id = await this.#store.get<string>(emailKey(email));
    return id ? this.findById(id, options) : undefined;
  }

  /**
   * The first step of erasure: nothing finds the account any more, so no new sign-in starts for it
   * while its traces are being removed (a sign-in already under way checks again after its writes).
   */
  async markErasing(id: string): Promise<boolean> {
    return this.#store.patch(accountKey(id), { erasing: true });
  }

  /** Creates the account, or returns the existing one for that email (the email is the identity). */
  async create(input: { email: string; name: string; unverifiedUntil?: number }): Promise<{ account: Account; created: boolean }> {
    const id = randomUUID();
    const claimed = await this.#store.setIfAbsent(emailKey(input.email), id);
    if (!claimed) {
      const existing = await this.findByEmail(input.email);
      if (existing) return { account: existing, created: false };
      throw new Error('an account for this email is being created at this moment; try again');
    }
    const account: Account = {
      id,
      email: normaliseEmail(input.email),
      name: input.name.trim(),
      emailVerified: false,
      created: Date.now(),
      enrolledAt: null,
      ...(input.unverifiedUntil !== undefined ? { unverifiedUntil: input.unverifiedUntil } : {}),
    };
    await this.#store.set(accountKey(id), account);
    await this.#store.indexAdd(ALL_ACCOUNTS, id);
    if (input.unverifiedUntil !== undefined) await this.#store.indexAdd(UNVERIFIED_ACCOUNTS, id);
    await this.#audit.append('account.signup', { actor: 'user', subject: auditSubject(id) });
    return { account, created: true };
  }

  async markEnrolled(id: string, at = Date.now()): Promise<boolean> {
    const done = await this.#store.patch(accountKey(id), { enrolledAt: at, enrolmentReset: null });
    await this.#store.delete(reenrolmentKey(id));
    if (done) await this.#audit.append('account.enrolled', { actor: 'system', subject: auditSubject(id) });
    return done;
  }

  /** Grants or revokes the operator role; false when there is no such account. */
  async setOperator(id: string, operator: boolean, actor: string): Promise<boolean> {
    if (!(await this.findById(id))) return false;
    const done = await this.#store.patch(accountKey(id), { operator });
    if (done) await this.#audit.append(operator ? 'operator.granted' : 'operator.revoked', { actor, subject: auditSubject(id) });
    // Revoked: every console session of theirs ends now, not at its next request.
    if (done && !operator) await forgetConsoleSessions(this.#store, id);
    return done;
  }

  /**
   * The face is no longer the account's (the caller forgets the template at the service). The next
   * enrolment is accepted only from a sign-in authorised for it (see Account.enrolmentReset):
   * grantForMs issues a single-use re-enrolment grant valid that long and returns the token (the
   * caller gives it to the proven person, never stores it); null issues none (passkey path only).
   * Undefined when there is no such account.
   */
  async resetEnrolment(id: string, actor: string, { grantForMs }: { grantForMs: number | null }): Promise<{ grant: string | null } | undefined> {
    if (!(await this.findById(id))) return undefined;
    const grant = grantForMs === null ? null : randomBytes(32).toString('base64url');
    const enrolmentReset = { at: Date.now(), grant: grant === null ? null : { hash: sha256(grant).toString('hex'), until: Date.now() + grantForMs! } };
    const done = await this.#store.patch(accountKey(id), { enrolledAt: null, enrolmentReset });
    await this.#store.delete(enrolmentKey(id), reenrolmentKey(id));
    if (done) await this.#audit.append('account.enrolment_reset', { actor, subject: auditSubject(id), details: { operator_approved: grant !== null } });
    return done ? { grant } : undefined;
  }

  /**
   * The grant of a reset account, redeemed by one sign-in (interaction uid): true once, for the
   * token the reset issued, before it expires (compared in constant time). The sign-in becomes the
   * one authorised to re-enrol the account (for ttlSeconds, the sign-in's own lifetime) and the
   * grant is gone; a second redemption (another tab, a copy of the token) gets false.
   */
  async redeemReenrolmentGrant(id: string, token: string, uid: string, ttlSeconds: number): Promise<boolean> {
    const grant = (await this.findById(id))?.enrolmentReset?.grant;
    if (!grant || Date.now() >= grant.until) return false;
    if (!timingSafeEqual(sha256(token), Buffer.from(grant.hash, 'hex'))) return false;
    // Set-if-absent: of two sign-ins racing with one token, one is authorised.
    if (!(await this.#store.setIfAbsent(reenrolmentKey(id), uid, { ttl: ttlSeconds }))) return false;
    const account = await this.findById(id);
    if (account?.enrolmentReset) await this.#store.patch(accountKey(id), { enrolmentReset: { ...account.enrolmentReset, grant: null } });
    return true;
  }

  /** This sign-in proved another factor of the reset account (its passkey): it may re-enrol it. */
  async authoriseReenrolment(id: string, uid: string, ttlSeconds: number): Promise<void> {
    await this.#store.set(reenrolmentKey(id), uid, { ttl: ttlSeconds });
  }

  /** True when this sign-in (interaction uid) is the one authorised to enrol the reset account. */
  async mayReenrol(id: string, uid: string): Promise<boolean> {
    return (await this.#store.get<string>(reenrolmentKey(id))) === uid;
  }

  /**
   * The first Approved enrolment (sign-up) of an account wins, set-if-absent: true when this
   * verification session is the one that enrolled it (now or before: a repeated request). Emails
   * are not verified yet, so two people can sign up the same unenrolled email; only one face ever
   * becomes the account's, and an enrolled account is never re-enrolled by a sign-up. After a
   * reset, only the authorised sign-in (`signin`, the attempt's interaction uid; or otherFactor,
   * a passkey of the account checked by the caller) enrols it, whoever learns the verdict.
   */
  async claimEnrolment(id: string, sessionId: string, options: { otherFactor?: boolean; signin?: string } = {}): Promise<boolean> {
    const account = await this.findById(id);
    if (!account) return false;
    const owner = await this.#store.get<string>(enrolmentKey(id));
    if (account.enrolmentReset && !options.otherFactor && !(options.signin !== undefined && (await this.mayReenrol(id, options.signin)))) return false;
    // Enrolled otherwise (the operator's `users enrol`): no sign-up may take it over.
    if (account.enrolledAt !== null && owner !== sessionId) return false;
    if (await this.#store.setIfAbsent(enrolmentKey(id), sessionId)) return true;
    return (await this.#store.get<string>(enrolmentKey(id))) === sessionId;
  }

  /** The address is confirmed: email_verified from now on, and the account no longer expires. */
  async markEmailVerified(id: string): Promise<boolean> {
    const done = await this.#store.patch(accountKey(id), { emailVerified: true, unverifiedUntil: null });
    await this.#store.indexRemove(UNVERIFIED_ACCOUNTS, id);
    if (done) await this.#audit.append('account.email_verified', { actor: 'user', subject: auditSubject(id) });
    return done;
  }

  /** A new confirmation period (the mail goes out when the enrolment completes, maybe days after the form). */
  async extendUnverified(id: string, until: number): Promise<boolean> {
    const account = await this.findById(id);
    if (!account || account.emailVerified || account.unverifiedUntil == null) return false;
    return this.#store.patch(accountKey(id), { unverifiedUntil: Math.max(until, account.unverifiedUntil) });
  }

  /** Accounts whose confirmation period may have passed: the ids to look at (the caller checks each). */
  async unverifiedIds(): Promise<string[]> {
    return this.#store.indexMembers(UNVERIFIED_ACCOUNTS);
  }

  /** The index entry of an account that no longer exists (the sweep tidies as it goes). */
  async dropUnverified(id: string): Promise<void> {
    await this.#store.indexRemove(UNVERIFIED_ACCOUNTS, id);
  }

  async list(): Promise<Account[]> {
    const ids = await this.#store.indexMembers(ALL_ACCOUNTS);
    const accounts = await Promise.all(ids.map((id) => this.findById(id)));
    return accounts.filter((a): a is Account => a !== undefined).sort((a, b) => a.created - b.created);
  }

  /** actor: who erased it, for the audit log (which keeps only the opaque subject). */
  async delete(id: string, actor = 'cli'): Promise<boolean> {
    const account = await this.findById(id, { includeErasing: true });
    if (!account) return false;
    await this.#store.delete(accountKey(id), emailKey(account.email), enrolmentKey(id), reenrolmentKey(id));
    await this.#store.indexRemove(ALL_ACCOUNTS, id);
    await this.#store.indexRemove(UNVERIFIED_ACCOUNTS, id);
    await this.#audit.append('account.deleted', { actor, subject: auditSubject(id) });
    return true;
  }
}

/** OIDC claims for an account, by scope; `sub` is the account id (stable, not the email). */
export function accountClaims(account: Account, scopes: Set<string>): { sub: string; [claim: string]: unknown } {
  return {
    sub: account.id,
    ...(scopes.has('email') ? { email: account.email, email_verified: account.emailVerified } : {}),
    ...(scopes.has('profile') ? { name: account.name, updated_at: Math.floor(account.created / 1000) } : {}),
  };
}
