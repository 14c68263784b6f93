// Reset enrolment (the console's and /account's): after it, only the sign-in the reset authorised
// (one that proved a passkey of the account, or redeemed the single-use grant given to the proven
// person) enrols the account's new face; a sign-up that only knows the email cannot take it over.
// The sign-up flows themselves (grant cookie, one-time link, webhook) are in test/idp/signin-suite.ts.
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
  it('without a grant: a new enrolment needs another factor of the account in the same sign-in', async () => {
    const { accounts, id } = await enrolledAccount('a@example.com');
    expect(await accounts.claimEnrolment(id, 'stranger')).toBe(false); // enrolled: no sign-up takes it
    expect(await accounts.resetEnrolment(id, 'acct_operator', { grantForMs: null })).toEqual({ grant: null });
    expect((await accounts.findById(id))!.enrolledAt).toBeNull();
    expect(await accounts.claimEnrolment(id, 'stranger', { signin: 'stranger-uid' })).toBe(false);
    expect(await accounts.claimEnrolment(id, 'owner-with-passkey', { otherFactor: true })).toBe(true);
    await accounts.markEnrolled(id);
    // Enrolled again: the reset is over; nobody else enrols it.
    expect((await accounts.findById(id))!.enrolmentReset).toBeNull();
    expect(await accounts.claimEnrolment(id, 'later', { otherFactor: true })).toBe(false);
  });

  it('with a grant: only the sign-in that redeemed it enrols the account, whoever reports the verdict', async () => {
    const { accounts, id } = await enrolledAccount('b@example.com');
    const { grant } = (await accounts.resetEnrolment(id, 'acct_operator', { grantForMs: 60_000 }))!;
    expect(grant).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The probe's attack: a stranger's approved sign-up of the email within the window.
    expect(await accounts.claimEnrolment(id, 'stranger-session', { signin: 'stranger-uid' })).toBe(false);
    expect(await accounts.claimEnrolment(id, 'stranger-session')).toBe(false); // no sign-in named: the same
    // Only the hash is stored.
    expect(JSON.stringify(await accounts.findById(id))).not.toContain(grant!);
    const wrong = `${grant!.slice(0, -1)}${grant!.endsWith('A') ? 'B' : 'A'}`; // one character off, never the grant itself
    expect(await accounts.redeemReenrolmentGrant(id, wrong, 'guess-uid', 600)).toBe(false);
    expect(await accounts.redeemReenrolmentGrant(id, grant!, 'person-uid', 600)).toBe(true);
    // Single use: the same token again (another tab, a copy) gets nothing.
    expect(await accounts.redeemReenrolmentGrant(id, grant!, 'copy-uid', 600)).toBe(false);
    expect(await accounts.mayReenrol(id, 'copy-uid')).toBe(false);
    expect(await accounts.claimEnrolment(id, 'stranger-session', { signin: 'stranger-uid' })).toBe(false);
    expect(await accounts.claimEnrolment(id, 'person-session', { signin: 'person-uid' })).toBe(true);
    await accounts.markEnrolled(id);
    expect(await accounts.mayReenrol(id, 'person-uid')).toBe(false); // the authorisation ends with the enrolment
    const trail = await new AuditLog(store).list({ subject: auditSubject(id), action: 'account.enrolment_reset' });
    expect(trail.entries[0]).toMatchObject({ actor: 'acct_operator', details: { operator_approved: true } });
  });

  it('an expired grant, or one replaced by a later reset, redeems nothing', async () => {
    const { accounts, id } = await enrolledAccount('c@example.com');
    const expired = (await accounts.resetEnrolment(id, 'user', { grantForMs: -1 }))!.grant!;
    expect(await accounts.redeemReenrolmentGrant(id, expired, 'late-uid', 600)).toBe(false);
    const first = (await accounts.resetEnrolment(id, 'user', { grantForMs: 60_000 }))!.grant!;
    const second = (await accounts.resetEnrolment(id, 'user', { grantForMs: 60_000 }))!.grant!;
    expect(second).not.toBe(first);
    expect(await accounts.redeemReenrolmentGrant(id, first, 'old-uid', 600)).toBe(false);
    expect(await accounts.redeemReenrolmentGrant(id, second, 'new-uid', 600)).toBe(true);
    // A later reset also cancels an authorised sign-in that has not enrolled yet.
    await accounts.resetEnrolment(id, 'user', { grantForMs: null });
    expect(await accounts.mayReenrol(id, 'new-uid')).toBe(false);
  });

  it('erasure removes the authorised sign-in with the account', async () => {
    const { accounts, id } = await enrolledAccount('d@example.com');
    const { grant } = (await accounts.resetEnrolment(id, 'user', { grantForMs: 60_000 }))!;
    expect(await accounts.redeemReenrolmentGrant(id, grant!, 'uid-1', 600)).toBe(true);
    expect(await store.get(`enrolment-reset:signin:${id}`)).toBe('uid-1');
    await accounts.delete(id);
    expect(await store.get(`enrolment-reset:signin:${id}`)).toBeUndefined();
  });
});
