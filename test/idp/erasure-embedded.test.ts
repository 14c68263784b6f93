// Erasure on the embedded store (SQLite), the path the console's "Delete account" and `users
// delete` share (src/idp/erasure.ts): an account enrolled by the CLI, with sign-in history,
// face throttle, device history, an operator role and console session, oidc-provider records and
// an audit trail; after erasure no row of the database names its id or email (checked row by
// row, key and value), and the audit log keeps the deletion under the opaque subject.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createAdapterFactory } from '../../src/idp/adapter.ts';
import { Accounts } from '../../src/idp/accounts.ts';
import { ConsoleSessions } from '../../src/idp/admin/session.ts';
import { AuditLog, auditSubject } from '../../src/idp/audit.ts';
import { SigninHistory } from '../../src/idp/signin/history.ts';
import { DeviceHistory } from '../../src/idp/signin/risk.ts';
import { FaceThrottle } from '../../src/idp/signin/throttle.ts';
import { eraseAccount } from '../../src/idp/erasure.ts';
import { openMailer } from '../../src/idp/email/mailer.ts';
import { createLogger } from '../../src/logger.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { forgetVendor } from '../../src/verifier/index.ts';
import { SHARED_DIR, tempDir } from '../helpers/env.ts';
import { runCli } from '../helpers/cli.ts';

const tmp = tempDir('erasure-embedded');
afterAll(() => tmp.remove());
const env = { DATA_DIR: tmp.dir, REDIS_URL: '', LOG_LEVEL: 'silent' };

const cli = (args: string[]) => runCli(args, env);

/** Every row of both tables whose key, member or value names the account or its email. */
function rowsNaming(id: string, email: string): string[] {
  const db = new DatabaseSync(path.join(tmp.dir, 'selfie-idp.sqlite'), { readOnly: true });
  try {
    const rows = [
      ...(db.prepare('SELECT key, value FROM kv').all() as { key: string; value: string }[]).map((r) => ({ name: `kv ${r.key}`, text: `${r.key} ${r.value}` })),
      ...(db.prepare('SELECT key, member FROM idx').all() as { key: string; member: string }[]).map((r) => ({ name: `idx ${r.key} ${r.member}`, text: `${r.key} ${r.member}` })),
    ];
    return rows.filter((r) => r.text.toLowerCase().includes(id) || r.text.toLowerCase().includes(email)).map((r) => r.name);
  } finally {
    db.close();
  }
}

describe('erasure on the embedded store', () => {
  it('removes every row about the account; the audit log keeps the deletion without the erased data', async () => {
    const enrolled = await cli(['users', 'enrol', '--email', 'Penny@Example.com', '--name', 'Penny', '--image', path.join(SHARED_DIR, 'faces', 'penny', 'penny1.png')]);
    expect(enrolled.stderr).toBe('');
    const { account_id: id, email } = JSON.parse(enrolled.stdout);
    expect((await cli(['users', 'grant-operator', '--email', email])).code).toBe(0);

    const config = loadConfig(env);
    const store = new SqliteStore(tmp.dir);
    try {
      await new SigninHistory(store, 5).record(id, { at: new Date().toISOString(), acr: 'urn:selfie-idp:acr:face', amr: ['face'], ip: '127.0.0.1', device: 'abc', userAgent: 'test' });
      await new FaceThrottle(store, config.throttle).recordFailure(id);
      await new DeviceHistory(store, 5).approved(id, 'device-1');
      await new ConsoleSessions(store, 15, 'k'.repeat(32)).open({ cookies: { set() {} } } as never, id, 'urn:selfie-idp:acr:face');
      const adapter = createAdapterFactory({ store, fallbackTtl: 600 });
      await adapter('Session').upsert('session-1', { accountId: id, uid: 'uid-1', loginTs: 1 } as never, 600);
      // Probe: a used authorization code past its TTL, its row not yet swept, was left naming the
      // account (its index entry had expired with it while the session's lived on).
      await adapter('AuthorizationCode').upsert('code-1', { accountId: id, grantId: 'grant-1', kind: 'AuthorizationCode' } as never, 1);
      await adapter('AuthorizationCode').consume('code-1');
      await adapter('AccessToken').upsert('at-1', { accountId: id, grantId: 'grant-1', kind: 'AccessToken' } as never, 600);
      // The development outbox (SMTP_URL unset): a mail about the account, an older file named
      // otherwise that names its email, and a mail about someone else that must stay.
      const mailer = openMailer(config, createLogger('silent'));
      await mailer.send({ to: email, subject: 'Confirm', text: `link ${id}`, html: `<p>${id}</p>`, about: id });
      await mailer.send({ to: 'someone-else@example.com', subject: 'Confirm', text: 'other', html: '<p>other</p>', about: '11111111-1111-4111-8111-111111111111' });
      mailer.close();
      const outbox = path.join(tmp.dir, 'outbox');
      writeFileSync(path.join(outbox, 'old-style.eml'), `To: ${email}\n\nhello\n`);
      expect(readdirSync(outbox)).toHaveLength(3);
      await new Promise((r) => setTimeout(r, 1100)); // the code's one-second TTL passes (the sweep runs once a minute)
      expect(await store.get('oidc:AuthorizationCode:code-1')).toBeUndefined();
      const before = rowsNaming(id, email);
      expect(before).toContain('kv oidc:AuthorizationCode:code-1');
      expect(before.length).toBeGreaterThanOrEqual(8);
      expect(before.some((r) => r.includes('verifier:template:'))).toBe(true);

      const account = (await new Accounts(store).findById(id))!;
      const forgotten = await eraseAccount(config, store, account, (accountId) => forgetVendor(store, accountId), 'cli');
      expect(forgotten.template).toBe(true);
      expect(rowsNaming(id, email)).toEqual([]);
      // The outbox keeps only the other account's mail.
      const left = readdirSync(outbox);
      expect(left).toHaveLength(1);
      expect(readFileSync(path.join(outbox, left[0]!), 'utf8')).toContain('someone-else@example.com');

      const trail = await new AuditLog(store).list({ subject: auditSubject(id) }, { limit: 20 });
      expect(trail.entries.map((e) => e.action)).toEqual(['account.deleted', 'operator.granted', 'account.enrolled', 'account.signup']);
      expect(JSON.stringify(trail)).not.toContain(id);
    } finally {
      await store.close();
    }
  }, 120_000);
});
