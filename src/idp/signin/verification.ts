// The IdP's one door to the verification service: the Didit v3 contract over HTTP, whether the
// service is the embedded verifier or the real Didit. Nothing here knows which.
import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import { DiditClient } from '../../didit/index.ts';
import type { Account } from '../accounts.ts';
import type { Interaction } from '../interaction/context.ts';
import type { Attempts, Purpose } from './attempts.ts';
import type { PortraitVault } from './portraits.ts';

export type VerificationSettings = {
  baseUrl: string;
  apiKey: string;
  webhookSecret: string;
  reauthWorkflowId: string;
  enrolWorkflowId: string;
  /** Only for a service that keeps no templates (the real Didit): the IdP sends the reference. */
  portraits: PortraitVault | undefined;
};

export type Verification = {
  client: DiditClient;
  settings: VerificationSettings;
  attempts: Attempts;
  issuer: string;
};

export function createVerification(settings: VerificationSettings, attempts: Attempts, issuer: string): Verification {
  return { client: new DiditClient({ baseUrl: settings.baseUrl, apiKey: settings.apiKey }), settings, attempts, issuer };
}

const LANGUAGES = ['en', 'id'];

/** ui_locales is a space-separated preference list; the first one the capture page speaks wins. */
export function pickLanguage(uiLocales: unknown): string | undefined {
  if (typeof uiLocales !== 'string') return undefined;
  for (const tag of uiLocales.split(' ')) {
    const lang = tag.toLowerCase().split('-')[0]!;
    if (LANGUAGES.includes(lang)) return lang;
  }
  return undefined;
}

export const DEVICE_COOKIE = 'selfie_device';

/** A long-lived random id for this browser, sent to the verifier as `device_id` metadata. */
export function ensureDeviceCookie(ctx: Context): string {
  const existing = (ctx.state.deviceId as string | undefined) ?? ctx.cookies.get(DEVICE_COOKIE, { signed: true });
  if (existing) return (ctx.state.deviceId = existing);
  const id = randomBytes(16).toString('base64url');
  ctx.cookies.set(DEVICE_COOKIE, id, { signed: true, httpOnly: true, sameSite: 'lax', maxAge: 400 * 24 * 3600 * 1000, overwrite: true });
  return (ctx.state.deviceId = id);
}

/** Opens a verification session for this interaction and returns the capture page URL. */
export async function startVerification(
  ctx: Context,
  verification: Verification,
  { interaction, account, purpose }: { interaction: Interaction; account: Account; purpose: Purpose },
): Promise<string> {
  const { settings, client, attempts, issuer } = verification;
  const portrait = purpose === 'login' && settings.portraits ? await settings.portraits.load(account.id) : undefined;
  const language = pickLanguage(interaction.params.ui_locales);
  const session = await client.createSession({
    workflow_id: purpose === 'login' ? settings.reauthWorkflowId : settings.enrolWorkflowId,
    vendor_data: account.id,
    callback: `${issuer}/reauth/callback`,
    metadata: {
      purpose,
      from_ip: ctx.ip,
      device_id: ensureDeviceCookie(ctx),
    },
    ...(language ? { language } : {}),
    ...(portrait ? { portrait_image: portrait.toString('base64') } : {}),
  });
  const ttl = Math.max(1, interaction.exp - Math.floor(Date.now() / 1000));
  await attempts.begin({ sessionId: session.session_id, uid: interaction.uid, accountId: account.id, purpose }, ttl);
  return session.url;
}
