// The audit log: every operator action and every account change, append-only in the store (Redis
// or the embedded SQLite alike: a counter gives each entry its number, one durable key per entry;
// nothing is kept in a process). Entries never hold what erasure removes: an account is named by
// an opaque subject (a hash of its random id), never by its id or email, so a deleted account's
// history stays readable without identifying anyone.
import { createHash } from 'node:crypto';
import type { JsonObject, Store } from '../store/index.ts';

export const AUDIT_ACTIONS = [
  'account.signup',
  'account.enrolled',
  'account.passkey_added',
  'account.passkey_removed',
  'account.deleted',
  'account.email_verified',
  'account.enrolment_reset',
  'account.throttle_unlocked',
  'account.data_exported',
  'operator.granted',
  'operator.revoked',
  'operator.signin',
  'operator.denied',
  'review.approved',
  'review.declined',
  'session.blocklisted',
  'sessions.exported',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditEntry = {
  seq: number;
  at: string;
  action: AuditAction;
  /** Who did it: `cli`, `user` (the account itself), `system`, or an operator's subject. */
  actor: string;
  /** The account it concerns (opaque subject), if any. */
  subject: string | null;
  /** Non-identifying details: a verification session id, a comment, counts. */
  details: JsonObject;
};

const SEQ = 'audit:seq';
const entryKey = (seq: number) => `audit:entry:${seq}`;

/** The opaque name of an account in the log: stable, and not reversible to the id or the email. */
export function auditSubject(accountId: string): string {
  return `acct_${createHash('sha256').update(`selfie-idp audit subject\0${accountId}`).digest('hex').slice(0, 24)}`;
}

export type AuditFilter = { action?: string; subject?: string; actor?: string; since?: number; until?: number };

export class AuditLog {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  async append(action: AuditAction, who: { actor: string; subject?: string | null; details?: JsonObject }): Promise<AuditEntry> {
    const seq = await this.#store.incr(SEQ);
    const entry: AuditEntry = { seq, at: new Date().toISOString(), action, actor: who.actor, subject: who.subject ?? null, details: who.details ?? {} };
    // Durable: no TTL. Never rewritten (each number is handed out once by the counter).
    await this.#store.set(entryKey(seq), entry as unknown as JsonObject);
    return entry;
  }

  /** Newest first, at most `limit` matching entries, looking back from `before` (a seq, exclusive). */
  async list(filter: AuditFilter = {}, { limit = 50, before }: { limit?: number; before?: number } = {}): Promise<{ entries: AuditEntry[]; next: number | null }> {
    const top = (await this.#store.get<number>(SEQ)) ?? 0;
    const entries: AuditEntry[] = [];
    let seq = Math.min(top, before !== undefined ? before - 1 : top);
    const BATCH = 100;
    while (seq > 0 && entries.length < limit) {
      const seqs = Array.from({ length: Math.min(BATCH, seq) }, (_, i) => seq - i);
      const batch = await Promise.all(seqs.map((n) => this.#store.get<AuditEntry>(entryKey(n))));
      for (const e of batch) {
        if (e && matches(e, filter)) entries.push(e);
        if (entries.length === limit) break;
      }
      if (filter.since !== undefined && batch.length && batch.at(-1) && Date.parse(batch.at(-1)!.at) < filter.since) break;
      seq -= seqs.length;
    }
    const last = entries.at(-1);
    return { entries, next: entries.length === limit && last && last.seq > 1 ? last.seq : null };
  }

  /** Oldest first: every matching entry (the export). */
  async *all(filter: AuditFilter = {}): AsyncGenerator<AuditEntry> {
    const top = (await this.#store.get<number>(SEQ)) ?? 0;
    for (let seq = 1; seq <= top; seq += 100) {
      const seqs = Array.from({ length: Math.min(100, top - seq + 1) }, (_, i) => seq + i);
      const batch = await Promise.all(seqs.map((n) => this.#store.get<AuditEntry>(entryKey(n))));
      for (const e of batch) if (e && matches(e, filter)) yield e;
    }
  }
}

function matches(e: AuditEntry, f: AuditFilter): boolean {
  if (f.action && e.action !== f.action && !e.action.startsWith(`${f.action}.`)) return false;
  if (f.subject && e.subject !== f.subject) return false;
  if (f.actor && e.actor !== f.actor) return false;
  const at = Date.parse(e.at);
  if (f.since !== undefined && at < f.since) return false;
  if (f.until !== undefined && at > f.until) return false;
  return true;
}

/** A CSV cell: quoted, and a leading = + - @ (or tab/CR) neutralised so a spreadsheet never runs it as a formula. */
export function csvCell(value: unknown): string {
  let s = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export function csvLine(cells: unknown[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
