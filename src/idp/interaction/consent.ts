// The consent prompt: third-party clients, and any client that asks with prompt=consent (which
// is how a client obtains offline_access). POST /interaction/:uid/confirm grants what was asked.
import type { Context } from 'koa';
import { HttpError } from '../../http/body.ts';
import { renderPage } from '../views.ts';
import { csrfToken } from './csrf.ts';
import { loadInteraction, readInteractionForm } from './context.ts';
import type { InteractionDeps } from './context.ts';

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Know who you are (a stable identifier)',
  email: 'See your email address',
  profile: 'See your name',
  offline_access: 'Stay signed in and act for you while you are away',
};

export function showConsent({ provider, csrfSecret }: InteractionDeps) {
  return async (ctx: Context, interaction: Awaited<ReturnType<typeof loadInteraction>>) => {
    const client = await provider.Client.find(String(interaction.params.client_id));
    const requested = String(interaction.params.scope ?? 'openid').split(' ');
    await renderPage(ctx, 'consent', {
      uid: interaction.uid,
      clientName: client?.clientName ?? client?.clientId ?? 'the application',
      scopes: requested.map((s) => SCOPE_TEXT[s] ?? s),
      csrf: csrfToken(csrfSecret, interaction.uid),
    });
  };
}

export function confirmConsent(deps: InteractionDeps) {
  const { provider } = deps;
  return async (ctx: Context) => {
    const { interaction } = await readInteractionForm(ctx, deps);
    if (interaction.prompt.name !== 'consent') throw new HttpError(400, 'There is nothing to consent to in this sign-in.');
    const { accountId } = interaction.session ?? {};
    if (!accountId) throw new HttpError(400, 'Sign in first.');
    const clientId = String(interaction.params.client_id);
    const grant = interaction.grantId
      ? ((await provider.Grant.find(interaction.grantId)) ?? new provider.Grant({ accountId, clientId }))
      : new provider.Grant({ accountId, clientId });
    const details = interaction.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const grantId = await grant.save();
    ctx.respond = false;
    await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  };
}
