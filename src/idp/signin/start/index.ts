// Starting a selfie, read top to bottom: opens a verification session for this interaction and
// returns the capture page URL. Every way into the camera (login form, retry, sign-up, the passkey
// of an mfa sign-in) comes through here, so every limit applies to all of them.
import type { Context } from 'koa';
import { HttpError } from '../../../http/body.ts';
import type { Account } from '../../accounts.ts';
import type { Interaction } from '../../interaction/context.ts';
import type { LivenessMethod } from '../acr.ts';
import type { Purpose } from '../attempts.ts';
import { ALREADY_ENROLLED, ensureDeviceCookie } from '../verification.ts';
import type { Verification } from '../verification.ts';
import { chooseWorkflow } from './choose-workflow.ts';
import { deleteStaleSession } from './delete-stale.ts';
import { checkFaceThrottle } from './face-throttle.ts';
import { openSession } from './open-session.ts';
import { countSessionStart } from './sessions-per-ip.ts';
import { settlePrevious } from './settle-previous.ts';
import { checkSigninTries } from './tries.ts';

/** How many times a session already bound to another sign-in is deleted and asked for again. */
const CLAIM_TRIES = 3;

export async function startVerification(
  ctx: Context,
  verification: Verification,
  { interaction, account, purpose, method = 'PASSIVE' }: { interaction: Interaction; account: Account; purpose: Purpose; method?: LivenessMethod },
): Promise<string> {
  const { attempts, limits } = verification;
  const deviceId = ensureDeviceCookie(ctx);
  await checkSigninTries(verification, interaction.uid);
  // A sign-up (or its retry) never re-enrols an account that has a face: asked afresh, not from the caller's copy.
  // Nor one whose face was reset, unless this sign-in is the one the reset authorised (the sign-up
  // form redeemed its grant or passkey: src/idp/signin/reenrolment.ts); same answer, nothing revealed.
  if (purpose === 'enrol') {
    const current = await verification.accounts.findById(account.id);
    if (current?.enrolledAt || (current?.enrolmentReset && !(await verification.accounts.mayReenrol(account.id, interaction.uid)))) throw new HttpError(409, ALREADY_ENROLLED);
  }
  if (purpose === 'login') await checkFaceThrottle(ctx, verification, account.id, interaction.uid);
  await countSessionStart(ctx, verification);
  const workflow =
    purpose === 'login'
      ? await chooseWorkflow(ctx, verification, { accountId: account.id, deviceId, requested: method })
      : { id: verification.settings.enrolWorkflowId, method: undefined, reasons: undefined };
  const metadata = workflow.reasons ? { risk: { method: workflow.method, reasons: workflow.reasons } } : {};

  for (let i = 0; i < CLAIM_TRIES; i++) {
    const session = await openSession(ctx, verification, { interaction, account, purpose, workflowId: workflow.id, extraMetadata: metadata });
    // The service hands an unfinished session of the account back to whoever asks: bound to the
    // first sign-in that received it, never shown to another (docs/signin.md).
    if (!(await attempts.claim(session.session_id, interaction.uid, account.id, limits.bindingTtlSeconds))) {
      (ctx.state.log as { warn: Function } | undefined)?.warn({ sessionId: session.session_id }, 'verification session belongs to another sign-in; deleted and opened anew');
      await deleteStaleSession(verification, session.session_id);
      continue;
    }
    await settlePrevious(ctx, verification, interaction.uid, session.session_id);
    try {
      // Again: the previous session's verdict, just learnt, may have used the last try or started a wait.
      await checkSigninTries(verification, interaction.uid);
      if (purpose === 'login') await checkFaceThrottle(ctx, verification, account.id, interaction.uid, session.session_id);
    } catch (err) {
      await deleteStaleSession(verification, session.session_id);
      throw err;
    }
    const ttl = Math.max(1, interaction.exp - Math.floor(Date.now() / 1000));
    await attempts.begin({ sessionId: session.session_id, uid: interaction.uid, accountId: account.id, purpose, deviceId, ...(workflow.method ? { method: workflow.method } : {}) }, ttl);
    // Erasure marks the account first, then removes its traces: checked after our writes, either
    // the erasure saw them, or we see the mark and take them back ourselves.
    if (!(await verification.accounts.findById(account.id))) {
      await deleteStaleSession(verification, session.session_id);
      await attempts.forgetAccount(account.id);
      throw new HttpError(400, 'This account no longer exists. Start again from the application.');
    }
    if (purpose === 'login') await verification.risk.devices.seen(account.id, deviceId);
    return session.url;
  }
  throw new HttpError(503, 'We could not start your selfie just now. Try again in a moment.');
}
