// POST /interaction/:uid/retry — another selfie after a decline, within the per-sign-in limit
// (checked by startVerification, as for every way into the camera).
import type { Context } from 'koa';
import { HttpError } from '../../http/body.ts';
import { readInteractionForm } from './context.ts';
import type { InteractionDeps } from './context.ts';
import { startVerification } from '../signin/start/index.ts';
import { finishUnmet, signinPlan } from './acr-plan.ts';
import { passkeyProof } from '../signin/held-login.ts';

export function retryVerification(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const { interaction } = await readInteractionForm(ctx, deps);
    const previous = await deps.verification.attempts.current(interaction.uid);
    if (!previous) throw new HttpError(400, 'There is no selfie to retry in this sign-in.');
    const account = await deps.accounts.findById(previous.accountId);
    if (!account) throw new HttpError(400, 'This account no longer exists.');
    const plan = previous.purpose === 'login' ? await signinPlan(deps, interaction, account, await passkeyProof(deps.store, interaction.uid)) : undefined;
    if (plan && !('target' in plan)) return finishUnmet(ctx, deps, 'unmet' in plan ? plan.unmet : 'The requested authentication context cannot be met.');
    ctx.status = 303;
    ctx.redirect(await startVerification(ctx, deps.verification, { interaction, account, purpose: previous.purpose, ...(plan ? { method: plan.method } : {}) }));
  };
}
