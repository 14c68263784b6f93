// GET /interaction/:uid — the login prompt. Until the selfie authenticator is wired in, it says
// plainly that nobody can sign in; there is deliberately no password fallback.
import type { Context } from 'koa';
import { renderPage } from '../views.ts';
import { csrfToken } from './csrf.ts';
import { loadInteraction } from './context.ts';
import type { InteractionDeps } from './context.ts';

export function showLogin({ provider, csrfSecret }: InteractionDeps) {
  return async (ctx: Context) => {
    const interaction = await loadInteraction(ctx, provider);
    const client = await provider.Client.find(String(interaction.params.client_id));
    await renderPage(ctx, 'login-unavailable', {
      uid: interaction.uid,
      clientName: client?.clientName ?? client?.clientId ?? 'the application',
      csrf: csrfToken(csrfSecret, interaction.uid),
    });
  };
}
