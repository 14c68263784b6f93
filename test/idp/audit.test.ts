// The audit log on both stores (the embedded SQLite and the real Redis): append-only numbering
// under concurrency (two instances appending at once), filters, paging, the export order, the
// opaque subject, and CSV cells a spreadsheet cannot run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, auditSubject, csvCell, csvLine } from '../../src/idp/audit.ts';
import { RedisStore } from '../../src/store/redis.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/types.ts';
import { TEST_REDIS_URL, tempDir, uniquePrefix } from '../helpers/env.ts';

const tmp = tempDir('audit');
afterAll(() => tmp.remove());

describe.each([
  ['sqlite', async () => new SqliteStore(tmp.dir)],
  ['redis', async () => RedisStore.connect({ url: TEST_REDIS_URL, keyPrefix: uniquePrefix('audit') })],
] as [string, () => Promise<Store>][])('audit log on %s', (_name, open) => {
  let store: Store;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(() => store.close());

  it('numbers every entry once under concurrent appends (two writers), lists newest first, filters and pages', async () => {
    const a = new AuditLog(store);
    const b = new AuditLog(store); // another instance on the same store
    const writes = Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).append(i % 4 === 0 ? 'review.approved' : 'account.signup', { actor: 'cli', subject: auditSubject(`acct-${i % 3}`), details: { i } }));
    const entries = await Promise.all(writes);
    expect(new Set(entries.map((e) => e.seq)).size).toBe(40);

    const first = await a.list({}, { limit: 15 });
    expect(first.entries.map((e) => e.seq)).toEqual(Array.from({ length: 15 }, (_, i) => 40 - i));
    const second = await a.list({}, { limit: 15, before: first.next! });
    expect(second.entries[0]!.seq).toBe(25);

    const approved = await a.list({ action: 'review' }, { limit: 100 });
    expect(approved.entries).toHaveLength(10);
    expect(approved.entries.every((e) => e.action === 'review.approved')).toBe(true);
    const one = await a.list({ subject: auditSubject('acct-1') }, { limit: 100 });
    expect(one.entries.length).toBe(entries.filter((e) => e.subject === auditSubject('acct-1')).length);
    expect(await a.list({ since: Date.now() + 60_000 })).toEqual({ entries: [], next: null });

    const exported = [];
    for await (const e of b.all()) exported.push(e.seq);
    expect(exported).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });
});

describe('audit subject and CSV', () => {
  it('the subject of an account is stable, opaque and different per account', () => {
    const id = '6f1c2a7e-1111-4222-8333-944455556666';
    expect(auditSubject(id)).toBe(auditSubject(id));
    expect(auditSubject(id)).not.toContain(id.slice(0, 8));
    expect(auditSubject(id)).not.toBe(auditSubject(`${id}x`));
    expect(auditSubject(id)).toMatch(/^acct_[0-9a-f]{24}$/);
  });

  it('cells starting with = + - @ (or tab / CR) cannot run as formulas; quotes are doubled', () => {
    for (const evil of ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) expect(csvCell(evil)).toMatch(/^"'/);
    expect(csvCell('plain "quoted"')).toBe('"plain ""quoted"""');
    expect(csvCell(null)).toBe('""');
    expect(csvLine(['a', 1, { k: 'v' }])).toBe('"a","1","{""k"":""v""}"\r\n');
  });
});
