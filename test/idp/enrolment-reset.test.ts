// Reset enrolment (the console's and /account's): after it, only another factor proved in the
// same sign-in, or an operator's approval still in force, lets a new enrolment become the
// account's face; a sign-up that only knows the email cannot take the account over.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accounts } from '../../src/idp/accounts.ts';
import { AuditLog, auditSubject } from '../../src/idp/audit.ts';
import { SqliteStore } from '../../src/store/sqlite.ts';
import { tempDir } from '../helpers/env.ts';

const tmp = tempDir('enrolment-reset');
let store: SqliteStore;
beforeAll(() => {
  store = new SqliteStore(tmp.dir);
});
afterAll(async () => {
  await store.close();
  tmp.remove();
});

async function enrolledAccount(email: string) {
  const accounts = new Accounts(store);
  const { account } = await accounts.create({ email, name: 'X' });
  expect(await accounts.claimEnrolment(account.id, 'first-session')).toBe(true);
  await accounts.markEnrolled(account.id);
  return { accounts, id: account.id };
}

describe('enrolment reset', () => {
  it('without approval: a new enrolment needs another factor of the account in the same sign-in', async () => {
    const { accounts, id } = await enrolledAccount('a@example.com');
    expect(await accounts.claimEnrolment(id, 'stranger')).toBe(false); // enrolled: no sign-up takes it
    await accounts.resetEnrolment(id, 'acct_operator', null);
    expect((await accounts.findById(id))!.enrolledAt).toBeNull();
    expect(await accounts.claimEnrolment(id, 'stranger')).toBe(false);
    expect(await accounts.claimEnrolment(id, 'owner-with-passkey', { otherFactor: true })).toBe(true);
    await accounts.markEnrolled(id);
    // Enrolled again: the reset is over; nobody else enrols it.
    expect((await accounts.findById(id))!.enrolmentReset).toBeNull();
    expect(await accounts.claimEnrolment(id, 'later', { otherFactor: true })).toBe(false);
  });

  it("with the operator's approval: any enrolment within the window, none after it", async () => {
    const { accounts, id } = await enrolledAccount('b@example.com');
    await accounts.resetEnrolment(id, 'acct_operator', 60_000);
    expect(await accounts.claimEnrolment(id, 'checked-person')).toBe(true);

    const other = await enrolledAccount('c@example.com');
    await other.accounts.resetEnrolment(other.id, 'acct_operator', -1); // an approval already expired
    expect(await other.accounts.claimEnrolment(other.id, 'too-late')).toBe(false);
    const trail = await new AuditLog(store).list({ subject: auditSubject(other.id), action: 'account.enrolment_reset' });
    expect(trail.entries[0]).toMatchObject({ actor: 'acct_operator', details: { operator_approved: true } });
  });
});
