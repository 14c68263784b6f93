// Step: the account's consecutive failed selfies across sign-ins (../throttle.ts): disabled, or a
// wait, or past the free failures one attempt (turn) per failure count. Logins only: an enrolment
// is no attempt to be someone. The user is told how long to wait, not why.
import type { Context } from 'koa';
import { HttpError } from '../../../http/body.ts';
import { FACE_DISABLED, faceWaitMessage } from '../throttle.ts';
import type { Verification } from '../verification.ts';

/** `sessionId`: the session this start opened (checked again once it exists): one per turn. */
export async function checkFaceThrottle(ctx: Context, verification: Verification, accountId: string, uid: string, sessionId?: string): Promise<void> {
  const { throttle } = verification;
  const state = await throttle.state(accountId);
  if (state.disabled) throw new HttpError(403, FACE_DISABLED);
  let wait = state.waitSeconds;
  if (wait === 0 && !(await throttle.takeTurn(accountId, state.failures, uid))) wait = await throttle.turnSecondsLeft(accountId, state.failures);
  if (wait === 0 && sessionId && !(await throttle.bindTurnSession(accountId, state.failures, sessionId))) wait = await throttle.turnSecondsLeft(accountId, state.failures);
  if (wait > 0) {
    (ctx.state.log as { info: Function } | undefined)?.info({ accountId, failures: state.failures, waitSeconds: wait }, 'face sign-in throttled');
    ctx.set('Retry-After', String(wait));
    throw new HttpError(429, faceWaitMessage(wait));
  }
}
