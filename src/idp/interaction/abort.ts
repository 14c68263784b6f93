// POST /interaction/:uid/abort — the user gives up; the client receives access_denied.
import type { Context } from 'koa';
import { readInteractionForm } from './context.ts';
import type { InteractionDeps } from './context.ts';

export function abortInteraction(deps: InteractionDeps) {
  return async (ctx: Context) => {
    await readInteractionForm(ctx, deps);
    const result = { error: 'access_denied', error_description: 'The user cancelled the sign-in.' };
    // interactionFinished answers with its own 303 to the authorization endpoint.
    ctx.respond = false;
    await deps.provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  };
}
