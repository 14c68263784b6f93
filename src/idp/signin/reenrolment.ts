// Re-enrolment after a reset (accounts.ts enrolmentReset): who may enrol the account's new face.
// Not whoever signs up next with the email: the reset issues a single-use grant that goes to the
// person who was proven (the browser that pressed "Re-enrol my face", or the person the operator
// verified, through a one-time link), kept in that browser as an httpOnly cookie. The sign-up of
// a reset account starts only when that cookie redeems the grant or the same sign-in proved a
// passkey of the account; that sign-in is then the only one whose enrolment counts.
import type { Context } from 'koa';
import type { Store } from '../../store/index.ts';
import type { Account, Accounts } from '../accounts.ts';
import type { Interaction } from '../interaction/context.ts';
import { passkeyProof } from './held-login.ts';

export const GRANT_COOKIE = 'reenrol_grant';

/** Puts the grant in this browser only (never in a page or a URL it keeps). */
export function giveGrant(ctx: Context, issuer: string, grant: string, maxAgeMs: number): void {
  const secure = new URL(issuer).protocol === 'https:';
  // Behind a TLS-terminating proxy the request itself may look plain; the issuer says what users see.
  if (secure) ctx.cookies.secure = true;
  ctx.cookies.set(GRANT_COOKIE, grant, { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: maxAgeMs, overwrite: true });
}

/**
 * May this sign-in start an enrolment of this account? Always for an account that was never reset
 * (an unenrolled sign-up: the first approved wins). For a reset one: when this sign-in is already
 * the authorised one, proved a passkey of the account, or redeems the grant in the cookie (single
 * use: the cookie is cleared). The caller refuses the others with the answer an enrolled account
 * gets, so a pending reset is not revealed.
 */
export async function mayStartReenrolment(ctx: Context, deps: { accounts: Accounts; store: Store }, interaction: Interaction, account: Account): Promise<boolean> {
  const fresh = await deps.accounts.findById(account.id);
  if (!fresh?.enrolmentReset) return true;
  if (await deps.accounts.mayReenrol(account.id, interaction.uid)) return true;
  const ttl = Math.max(1, interaction.exp - Math.floor(Date.now() / 1000));
  if ((await passkeyProof(deps.store, interaction.uid))?.accountId === account.id) {
    await deps.accounts.authoriseReenrolment(account.id, interaction.uid, ttl);
    return true;
  }
  const grant = ctx.cookies.get(GRANT_COOKIE);
  if (!grant || !(await deps.accounts.redeemReenrolmentGrant(account.id, grant, interaction.uid, ttl))) return false;
  ctx.cookies.set(GRANT_COOKIE, null, { path: '/' });
  return true;
}
