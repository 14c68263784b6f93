// POST /interaction/:uid/abort — the user gives up; the client receives access_denied.
import type { Context } from 'koa';
import { HttpError, readForm } from '../../http/body.ts';
import { csrfValid } from './csrf.ts';
import { loadInteraction } from './context.ts';
import type { InteractionDeps } from './context.ts';

export function abortInteraction({ provider, csrfSecret }: InteractionDeps) {
  return async (ctx: Context) => {
    const form = await readForm(ctx);
    const interaction = await loadInteraction(ctx, provider);
    if (!csrfValid(csrfSecret, interaction.uid, form.get('csrf'))) throw new HttpError(403, 'This form has expired. Go back and try again.');
    const result = { error: 'access_denied', error_description: 'The user cancelled the sign-in.' };
    // interactionFinished answers with its own 303 to the authorization endpoint.
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  };
}
