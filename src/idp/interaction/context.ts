// What every interaction route needs, and a way to load the interaction that turns a missing or
// expired one into a readable page instead of a stack trace.
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Config } from '../../config.ts';
import type { Store } from '../../store/index.ts';
import { HttpError, readForm } from '../../http/body.ts';
import type { Accounts } from '../accounts.ts';
import type { Verification } from '../signin/verification.ts';
import type { Passkeys } from '../passkeys/passkeys.ts';
import type { EmailVerification } from '../email/verification.ts';
export { ensureDeviceCookie } from '../signin/verification.ts';
import { csrfValid } from './csrf.ts';

export type InteractionDeps = {
  provider: Provider;
  store: Store;
  config: Config;
  csrfSecret: string;
  accounts: Accounts;
  verification: Verification;
  passkeys: Passkeys;
  /** Address confirmation (the deadline of a sign-up's account). */
  emails: EmailVerification;
  /** Counts one account lookup for this client IP; 429 past the limit (lookupLimiter). */
  countLookup: (ctx: Context) => Promise<void>;
};
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

/** Every form post: bounded body, live interaction, valid CSRF token — in that order. */
export async function readInteractionForm(ctx: Context, deps: InteractionDeps): Promise<{ form: URLSearchParams; interaction: Interaction }> {
  const form = await readForm(ctx);
  const interaction = await loadInteraction(ctx, deps.provider);
  if (!csrfValid(deps.csrfSecret, interaction.uid, form.get('csrf'))) throw new HttpError(403, 'This form has expired. Go back and try again.');
  return { form, interaction };
}

export async function clientName(provider: Provider, interaction: Interaction): Promise<string> {
  const client = await provider.Client.find(String(interaction.params.client_id));
  return client?.clientName ?? client?.clientId ?? 'the application';
}

/**
 * Account lookups reveal whether an email is enrolled (and start verifications), so they are
 * limited per client IP, over an hour, by the store's rate limiter: shared by every instance on
 * one Redis. Made once per router, not per request.
 */
export function lookupLimiter(store: Store, config: Config): (ctx: Context) => Promise<void> {
  const limiter = store.rateLimiter('idp:lookup', { points: config.signin.lookupsPerIpPerHour, durationSeconds: 3600 });
  return async (ctx: Context) => {
    const state = await limiter.consume(ctx.ip);
    if (!state.allowed) {
      ctx.set('Retry-After', String(state.resetSeconds));
      throw new HttpError(429, 'Too many attempts from your network. Try again later.');
    }
  };
}

export async function countLookup(ctx: Context, deps: InteractionDeps): Promise<void> {
  await deps.countLookup(ctx);
}
