// Every verification session, filtered (status, workflow, account, created date) and paginated;
// a detail page; the filtered list as CSV (cells that a spreadsheet would run as formulas are
// neutralised, audit.ts csvCell). The service filters by status, workflow and account; dates
// are filtered here.
import type { Context } from 'koa';
import { DiditApiError, SESSION_STATUSES } from '../../didit/index.ts';
import type { DiditClient, ListSessionsQuery, ReceivedSessionList, SessionStatus } from '../../didit/index.ts';
import { HttpError } from '../../http/body.ts';
import type { Accounts } from '../accounts.ts';
import { AuditLog, auditSubject, csvLine } from '../audit.ts';
import { consoleState } from './auth.ts';
import { renderConsole } from './render.ts';
import { sessionView } from './verifier-view.ts';

type Row = ReceivedSessionList['results'][number];
export type SessionsDeps = { client: DiditClient; accounts: Accounts; audit: AuditLog };

/** At most this many sessions are read for one list (10 pages of the service's 100). */
const READ_MAX = 1000;
const PAGE = 25;

export async function allSessions(client: DiditClient, query: Omit<ListSessionsQuery, 'offset' | 'limit'>): Promise<Row[]> {
  const rows: Row[] = [];
  for (;;) {
    const page = await client.listSessions({ ...query, limit: 100, offset: rows.length });
    rows.push(...page.results);
    if (!page.next || page.results.length === 0 || rows.length >= READ_MAX) return rows;
  }
}

type Filters = { status: string; workflow: string; account: string; from: string; to: string };

function readFilters(ctx: Context): Filters {
  const q = (name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string).trim() : '');
  const f = { status: q('status'), workflow: q('workflow'), account: q('account'), from: q('from'), to: q('to') };
  if (f.status && !(SESSION_STATUSES as readonly string[]).includes(f.status)) throw new HttpError(400, `Unknown status "${f.status}".`);
  for (const d of [f.from, f.to]) if (d && Number.isNaN(Date.parse(d))) throw new HttpError(400, `"${d}" is not a date (YYYY-MM-DD).`);
  return f;
}

/** The filtered sessions, newest first; `account` is an email or an account id (vendor_data). */
async function filtered(deps: SessionsDeps, f: Filters): Promise<Row[] | null> {
  let vendorData: string | undefined;
  if (f.account) {
    vendorData = f.account.includes('@') ? (await deps.accounts.findByEmail(f.account))?.id : f.account;
    if (!vendorData) return null;
  }
  const rows = await allSessions(deps.client, { status: (f.status || undefined) as SessionStatus | undefined, workflow_id: f.workflow || undefined, vendor_data: vendorData });
  const from = f.from ? Date.parse(f.from) : -Infinity;
  // A date alone is the whole day.
  const to = f.to ? Date.parse(f.to) + (/^\d{4}-\d{2}-\d{2}$/.test(f.to) ? 86_400_000 - 1 : 0) : Infinity;
  return rows.filter((r) => {
    const at = r.created_at ? Date.parse(r.created_at) : NaN;
    return (f.from === '' && f.to === '') || (at >= from && at <= to);
  });
}

async function emails(accounts: Accounts, rows: Row[]): Promise<Map<string, string>> {
  const ids = [...new Set(rows.map((r) => r.vendor_data).filter((v): v is string => !!v))];
  const found = await Promise.all(ids.map((id) => accounts.findById(id)));
  return new Map(found.filter((a) => a !== undefined).map((a) => [a!.id, a!.email]));
}

export function listSessionsPage(deps: SessionsDeps) {
  return async (ctx: Context) => {
    const f = readFilters(ctx);
    const rows = (await filtered(deps, f)) ?? [];
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    const page = Math.min(pages, Math.max(1, Number.parseInt(String(ctx.query.page ?? '1'), 10) || 1));
    const shown = rows.slice((page - 1) * PAGE, page * PAGE);
    const qs = new URLSearchParams(Object.entries(f).filter(([, v]) => v !== '')).toString();
    await renderConsole(ctx, 'admin/sessions', { title: 'Verification sessions', filters: f, statuses: SESSION_STATUSES, rows: shown, emails: await emails(deps.accounts, shown), page, pages, total: rows.length, qs });
  };
}

export function sessionDetail(deps: SessionsDeps) {
  return async (ctx: Context) => {
    const decision = await deps.client.getDecision(ctx.params.id!).catch(() => undefined);
    if (!decision) throw new HttpError(404, 'There is no such verification session.');
    const view = sessionView(decision);
    const account = view.accountId ? await deps.accounts.findById(view.accountId) : undefined;
    await renderConsole(ctx, 'admin/session', { title: `Session ${view.id}`, s: view, email: account?.email ?? null, notice: ctx.query.blocklisted === '1' ? 'The face of this session is on the blocklist.' : null });
  };
}

export function exportCsv(deps: SessionsDeps) {
  return async (ctx: Context) => {
    const rows = (await filtered(deps, readFilters(ctx))) ?? [];
    const mail = await emails(deps.accounts, rows);
    let body = csvLine(['session_id', 'status', 'workflow_id', 'account_id', 'email', 'created_at']);
    for (const r of rows) body += csvLine([r.session_id, r.status, r.workflow_id ?? '', r.vendor_data ?? '', r.vendor_data ? (mail.get(r.vendor_data) ?? '') : '', r.created_at ?? '']);
    await deps.audit.append('sessions.exported', { actor: auditSubject(consoleState(ctx).console.accountId), details: { rows: rows.length } });
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', 'attachment; filename="sessions.csv"');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  };
}

/**
 * POST /admin/sessions/:id/blocklist: the face of this session goes on the service's face
 * blocklist (POST /v3/blocklist/add/ {session_id, blocklist_face: true}: DiditClient.addToBlocklist).
 */
export function blocklist(deps: SessionsDeps) {
  return async (ctx: Context) => {
    const id = ctx.params.id!;
    const decision = await deps.client.getDecision(id).catch(() => undefined);
    if (!decision) throw new HttpError(404, 'There is no such verification session.');
    try {
      await deps.client.addToBlocklist(id);
    } catch (err) {
      if (err instanceof DiditApiError && err.status < 500) throw new HttpError(409, `The verification service refused: ${JSON.stringify(err.body).slice(0, 300)}`);
      throw err;
    }
    await deps.audit.append('session.blocklisted', { actor: auditSubject(consoleState(ctx).console.accountId), subject: decision.vendor_data ? auditSubject(decision.vendor_data) : null, details: { session_id: id } });
    ctx.status = 303;
    ctx.redirect(`/admin/sessions/${encodeURIComponent(id)}?blocklisted=1`);
  };
}
