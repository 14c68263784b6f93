// Step: a new session means the previous one of this sign-in is finished at the service; its
// verdict may not have reached us yet. Learn it first (decision endpoint), so that a Declined
// counts against the tries, the sign-in's and the account's.
import type { Context } from 'koa';
import type { Verification } from '../verification.ts';

const SETTLED = new Set(['Approved', 'Declined', 'In Review', 'Abandoned', 'Expired', 'Kyc Expired']);

export async function settlePrevious(ctx: Context, verification: Verification, uid: string, newSessionId: string): Promise<void> {
  const previous = await verification.attempts.current(uid);
  if (!previous || previous.sessionId === newSessionId || (previous.status !== null && SETTLED.has(previous.status))) return;
  try {
    const decision = await verification.client.getDecision(previous.sessionId);
    if (decision.session_id !== previous.sessionId || (decision.vendor_data ?? null) !== previous.accountId) return;
    await verification.attempts.recordStatus(previous.sessionId, decision.status, 'decision', Math.floor(Date.now() / 1000));
  } catch (err) {
    // Deleted by a newer sign-in (404), or the service is unreachable: nothing to learn now.
    (ctx.state.log as { warn: Function } | undefined)?.warn({ sessionId: previous.sessionId, err: (err as Error).message }, 'previous verification of this sign-in could not be settled');
  }
}
