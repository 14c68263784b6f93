// What every interaction route needs: the provider, the store, and a way to load the interaction
// that turns a missing or expired one into a readable page instead of a stack trace.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Config } from '../../config.ts';
import type { Store } from '../../store/index.ts';
import { HttpError } from '../../http/body.ts';

export type InteractionDeps = { provider: Provider; store: Store; config: Config; csrfSecret: string };
export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

export async function loadInteraction(ctx: Context, provider: Provider): Promise<Interaction> {
  try {
    const interaction = await provider.interactionDetails(ctx.req, ctx.res);
    if (interaction.uid !== ctx.params.uid) throw new HttpError(400, 'This sign-in page does not belong to your current sign-in. Start again from the application.');
    return interaction;
  } catch (err) {
    if (err instanceof errors.SessionNotFound) {
      throw new HttpError(400, 'This sign-in has expired or was opened in another browser. Start again from the application.');
    }
    throw err;
  }
}
