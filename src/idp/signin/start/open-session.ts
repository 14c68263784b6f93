// Step: a verification session at the service for this account, with the portrait when the IdP
// keeps it (the real Didit), the language from ui_locales, and the metadata (purpose, IP, device,
// and for a login the risk decision).
import type { Context } from 'koa';
import type { Account } from '../../accounts.ts';
import type { Interaction } from '../../interaction/context.ts';
import type { Purpose } from '../attempts.ts';
import { ensureDeviceCookie, pickLanguage } from '../verification.ts';
import type { Verification } from '../verification.ts';

export async function openSession(
  ctx: Context,
  verification: Verification,
  {
    interaction,
    account,
    purpose,
    workflowId,
    extraMetadata,
  }: { interaction: Interaction; account: Account; purpose: Purpose; workflowId: string; extraMetadata: Record<string, unknown> },
) {
  const { settings, client, issuer } = verification;
  const portrait = purpose === 'login' && settings.portraits ? await settings.portraits.load(account.id) : undefined;
  const language = pickLanguage(interaction.params.ui_locales);
  return client.createSession({
    workflow_id: workflowId,
    vendor_data: account.id,
    callback: `${issuer}/reauth/callback`,
    metadata: {
      purpose,
      from_ip: ctx.ip,
      device_id: ensureDeviceCookie(ctx),
      ...extraMetadata,
    },
    ...(language ? { language } : {}),
    ...(portrait ? { portrait_image: portrait.toString('base64') } : {}),
  });
}
