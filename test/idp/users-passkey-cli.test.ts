// `users passkey-remove --email E --id ID` with the ids authenticators really give: base64url
// credential ids, of which one in 64 begins with "-". util.parseArgs alone refuses such a value after
// its option ("argument is ambiguous"), which made the passkey browser test fail whenever Chromium's
// virtual authenticator drew one. Here the ids are fixed, so the outcome does not depend on that draw.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts } from '../../src/idp/accounts.ts';
import { joinOptionValues } from '../../src/idp/users/cli.ts';
import { Passkeys, type Passkey } from '../../src/idp/passkeys/passkeys.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/env.ts';

const ISSUER = 'http://localhost:3999';
const tmp = tempDir('users-passkey-cli');
let accountId = '';

const passkey = (id: string, createdAt: number): Passkey => ({
  id, accountId, publicKey: 'AAAA', counter: 0, transports: ['internal'], deviceType: 'singleDevice', backedUp: false,
  aaguid: '00000000-0000-0000-0000-000000000000', deviceId: null, createdAt, lastUsedAt: null,
});

beforeAll(async () => {
  const store = new SqliteStore(tmp.dir);
  try {
    accountId = (await new Accounts(store).create({ email: 'ada@example.com', name: 'Ada' })).account.id;
    await new Accounts(store).create({ email: '-dash@example.com', name: 'Dash' });
    // Stored as Passkeys.register stores them (its record and the account's index); the listing
    // below reads them back through Passkeys, so a change of those keys fails here, not silently.
    for (const [i, id] of ['-dashFirst_0123', 'plainId-4567'].entries()) {
      await store.setIfAbsent(`passkey:${id}`, passkey(id, 1_000 + i));
      await store.indexAdd(`passkeys-of:${accountId}`, id);
    }
    expect((await new Passkeys(store, ISSUER).list(accountId)).map((p) => p.id)).toEqual(['-dashFirst_0123', 'plainId-4567']);
  } finally {
    await store.close();
  }
});
afterAll(() => tmp.remove());

const cli = (args: string[]) => runCli(['users', ...args], { DATA_DIR: tmp.dir, ISSUER, LOG_LEVEL: 'silent', REDIS_URL: undefined });

describe('users passkey-remove', () => {
  it('removes a passkey whose id begins with "-", written as `users passkeys` prints it', async () => {
    const listed = (await cli(['passkeys', '--email', 'ada@example.com'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string });
    expect(listed.map((p) => p.id)).toEqual(['-dashFirst_0123', 'plainId-4567']);
    const removed = await cli(['passkey-remove', '--email', 'ada@example.com', '--id', '-dashFirst_0123']);
    expect(removed.stderr).toBe('');
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ account_id: accountId, passkey_id: '-dashFirst_0123', removed: true });
    // the = form still works, and an id that is not the account's is refused with exit 1
    expect((await cli(['passkey-remove', '--email=ada@example.com', '--id=plainId-4567'])).code).toBe(0);
    const again = await cli(['passkey-remove', '--email', 'ada@example.com', '--id', '-dashFirst_0123']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('ada@example.com has no passkey -dashFirst_0123');
  });

  it('still refuses a missing value as a usage error (exit 2)', async () => {
    expect((await cli(['passkey-remove', '--email', 'ada@example.com', '--id'])).code).toBe(2);
    expect((await cli(['passkey-remove', '--id', '--email', 'ada@example.com'])).code).toBe(2);
  });
});

describe('every users subcommand', () => {
  it('takes an --email that begins with "-" as its value', async () => {
    const shown = await cli(['show', '--email', '-dash@example.com']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ email: '-dash@example.com' });
  });
});

describe('joinOptionValues', () => {
  it('joins the named options to the argument after them, whatever it begins with', () => {
    expect(joinOptionValues(['--email', 'a@b', '--id', '-x_1'], ['--email', '--id'])).toEqual(['--email=a@b', '--id=-x_1']);
    expect(joinOptionValues(['--id=-x', '--other', '-y'], ['--id'])).toEqual(['--id=-x', '--other', '-y']);
    expect(joinOptionValues(['--id'], ['--id'])).toEqual(['--id']);
  });
});
