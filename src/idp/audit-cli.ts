// `selfie-idp audit export [--since DATE] [--json|--csv]`: the audit log, oldest first, to stdout
// (JSON lines by default). Reads the same store as the running server (DATA_DIR or REDIS_URL).
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.ts';
import { openStore } from '../store/index.ts';
import { UsageError } from '../usage-error.ts';
import { AuditLog, csvLine } from './audit.ts';

export async function runAudit(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'export') throw new UsageError(`audit: expected "export", got ${sub ?? 'nothing'}`);
  const { values } = parseArgs({ args: rest, options: { since: { type: 'string' }, json: { type: 'boolean' }, csv: { type: 'boolean' } }, strict: true });
  if (values.json && values.csv) throw new UsageError('audit export: --json or --csv, not both');
  const since = values.since === undefined ? undefined : Date.parse(values.since);
  if (since !== undefined && Number.isNaN(since)) throw new UsageError(`audit export: --since ${values.since} is not a date (YYYY-MM-DD or ISO 8601)`);
  const config = loadConfig();
  const store = await openStore(config);
  try {
    const out: string[] = [];
    if (values.csv) out.push(csvLine(['seq', 'at', 'action', 'actor', 'subject', 'details']));
    for await (const e of new AuditLog(store).all(since === undefined ? {} : { since })) {
      out.push(values.csv ? csvLine([e.seq, e.at, e.action, e.actor, e.subject ?? '', e.details]) : `${JSON.stringify(e)}\n`);
      if (out.length >= 500) process.stdout.write(out.splice(0).join(''));
    }
    process.stdout.write(out.join(''));
  } finally {
    await store.close();
  }
  return 0;
}
