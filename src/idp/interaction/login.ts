// GET /interaction/:uid — shows whichever prompt oidc-provider is waiting for. Until the selfie
// authenticator is wired in, the login prompt says plainly that nobody can sign in; there is
// deliberately no password fallback.
import type { Context } from 'koa';
import { renderPage } from '../views.ts';
import { csrfToken } from './csrf.ts';
import { loadInteraction } from './context.ts';
import type { InteractionDeps } from './context.ts';
import { showConsent } from './consent.ts';

export function showPrompt(deps: InteractionDeps) {
  const consent = showConsent(deps);
  return async (ctx: Context) => {
    const interaction = await loadInteraction(ctx, deps.provider);
    if (interaction.prompt.name === 'consent') return consent(ctx, interaction);
    const client = await deps.provider.Client.find(String(interaction.params.client_id));
    await renderPage(ctx, 'login-unavailable', {
      uid: interaction.uid,
      clientName: client?.clientName ?? client?.clientId ?? 'the application',
      csrf: csrfToken(deps.csrfSecret, interaction.uid),
    });
  };
}
