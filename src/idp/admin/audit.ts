// The audit log in the console: newest first, filtered by action, account (email or opaque
// subject) and date; paged by sequence number.
import type { Context } from 'koa';
import { HttpError } from '../../http/body.ts';
import type { Accounts } from '../accounts.ts';
import { AUDIT_ACTIONS, auditSubject } from '../audit.ts';
import type { AuditFilter, AuditLog } from '../audit.ts';
import { renderConsole } from './render.ts';

export function auditPage({ audit, accounts }: { audit: AuditLog; accounts: Accounts }) {
  return async (ctx: Context) => {
    const q = (name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string).trim() : '');
    const form = { action: q('action'), account: q('account'), from: q('from'), to: q('to') };
    const filter: AuditFilter = {};
    if (form.action) filter.action = form.action;
    if (form.account) {
      const account = form.account.includes('@') ? await accounts.findByEmail(form.account) : undefined;
      filter.subject = account ? auditSubject(account.id) : form.account.startsWith('acct_') ? form.account : auditSubject(form.account);
    }
    for (const d of [form.from, form.to]) if (d && Number.isNaN(Date.parse(d))) throw new HttpError(400, `"${d}" is not a date (YYYY-MM-DD).`);
    if (form.from) filter.since = Date.parse(form.from);
    if (form.to) filter.until = Date.parse(form.to) + (/^\d{4}-\d{2}-\d{2}$/.test(form.to) ? 86_400_000 - 1 : 0);
    const before = Number.parseInt(q('before'), 10);
    const { entries, next } = await audit.list(filter, { limit: 50, ...(Number.isFinite(before) ? { before } : {}) });
    const qs = new URLSearchParams(Object.entries(form).filter(([, v]) => v !== '')).toString();
    await renderConsole(ctx, 'admin/audit', { title: 'Audit log', form, actions: AUDIT_ACTIONS, entries, next, qs });
  };
}
