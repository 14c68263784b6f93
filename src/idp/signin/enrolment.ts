// An approved enrolment (sign-up) becomes the account's face: the first one wins (accounts.ts
// claimEnrolment), the portrait is kept where the service keeps no templates, the account is
// marked enrolled. Done by whichever learns the verdict first, the browser's callback or the
// webhook: a sign-up whose tab was closed after an Approved capture must not leave the account
// half-enrolled (the service holds its face, the IdP would keep asking for a sign-up).
import type { Logger } from '../../logger.ts';
import type { Accounts } from '../accounts.ts';
import type { Attempt } from './attempts.ts';
import { keepEnrolmentPortrait } from './keep-portrait.ts';
import type { Verification } from './verification.ts';

/** True when this enrolment is (now, or already was) the account's; false when another won. */
export async function completeEnrolment(verification: Verification, accounts: Accounts, attempt: Attempt, log: Logger, options: { otherFactor?: boolean } = {}): Promise<boolean> {
  // After a reset only the sign-in authorised for it enrols the account (accounts.ts), whether the
  // verdict comes by its browser or by the webhook; otherFactor: it proved a passkey of the account.
  if (!(await accounts.claimEnrolment(attempt.accountId, attempt.sessionId, { ...options, signin: attempt.uid }))) return false;
  if ((await accounts.findById(attempt.accountId))?.enrolledAt) return true;
  // A portrait that cannot be fetched is logged, not fatal: the enrolment itself is approved.
  await keepEnrolmentPortrait(verification, attempt.sessionId, attempt.accountId, log).catch((err: unknown) =>
    log.warn({ sessionId: attempt.sessionId, err: (err as Error).message }, 'could not keep the enrolment portrait'),
  );
  await accounts.markEnrolled(attempt.accountId);
  // The face is the account's: now its address gets the confirmation link (not awaited).
  verification.afterEnrolment?.(attempt.accountId);
  return true;
}
