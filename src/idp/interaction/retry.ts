// POST /interaction/:uid/retry — another selfie after a decline, within the per-sign-in limit.
import type { Context } from 'koa';
import { HttpError } from '../../http/body.ts';
import { readInteractionForm } from './context.ts';
import type { InteractionDeps } from './context.ts';
import { startVerification } from '../signin/verification.ts';

export function retryVerification(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const { interaction } = await readInteractionForm(ctx, deps);
    const previous = await deps.verification.attempts.current(interaction.uid);
    if (!previous) throw new HttpError(400, 'There is no selfie to retry in this sign-in.');
    if ((await deps.verification.attempts.failures(interaction.uid)) >= deps.config.signin.maxAttempts) {
      throw new HttpError(429, 'You have used all your tries for this sign-in. Start again from the application later.');
    }
    const account = await deps.accounts.findById(previous.accountId);
    if (!account) throw new HttpError(400, 'This account no longer exists.');
    ctx.status = 303;
    ctx.redirect(await startVerification(ctx, deps.verification, { interaction, account, purpose: previous.purpose }));
  };
}
