// Passkeys in the sign-in (docs/signin.md, "Passkeys"):
//  - the offer after a successful face sign-in or sign-up ("Use this device next time"):
//    POST …/passkey/register/options, POST …/passkey/register, then …/finish;
//  - an mfa (or passkey-only) sign-in starts with the passkey ("Use passkey"):
//    POST …/passkey/auth/options, POST …/passkey/auth → the selfie for the passkey's account (mfa),
//    or …/finish (passkey alone, for clients that allow it).
// JSON endpoints take the page's CSRF token in the X-CSRF-Token header.
import type { Context } from 'koa';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { HttpError, readJson } from '../../http/body.ts';
import { renderPage } from '../views.ts';
import { ACR, amrFor } from '../signin/acr.ts';
import { startVerification } from '../signin/start/index.ts';
import { finishHeldLogin, holdLogin, heldLogin, rememberPasskeyProof } from '../signin/held-login.ts';
import { csrfToken, csrfValid } from './csrf.ts';
import { clientName, countLookup, ensureDeviceCookie, loadInteraction, readInteractionForm } from './context.ts';
import type { Interaction, InteractionDeps } from './context.ts';
import { finishUnmet, signinPlan } from './acr-plan.ts';

const JSON_LIMIT = 64 * 1024;
const interactionTtl = (interaction: Interaction) => Math.max(1, interaction.exp - Math.floor(Date.now() / 1000));

async function readInteractionJson(ctx: Context, deps: InteractionDeps): Promise<{ body: Record<string, unknown>; interaction: Interaction }> {
  const body = await readJson(ctx, JSON_LIMIT);
  const interaction = await loadInteraction(ctx, deps.provider);
  if (!csrfValid(deps.csrfSecret, interaction.uid, ctx.get('x-csrf-token') || null)) throw new HttpError(403, 'This page has expired. Go back and try again.');
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'expected a JSON object');
  return { body: body as Record<string, unknown>, interaction };
}

/** The passkey page of an mfa or passkey-only sign-in. */
export async function renderPasskeyLogin(ctx: Context, deps: InteractionDeps, interaction: Interaction, email: string, selfieToo: boolean, notice: string | null = null) {
  ensureDeviceCookie(ctx);
  await renderPage(ctx, 'login-passkey', {
    uid: interaction.uid,
    clientName: await clientName(deps.provider, interaction),
    csrf: csrfToken(deps.csrfSecret, interaction.uid),
    email,
    selfieToo,
    notice,
  });
}

/** The offer after a face sign-in (callback/steps.ts holds the login, then shows this). */
export async function renderPasskeyOffer(ctx: Context, csrfSecret: string, uid: string) {
  await renderPage(ctx, 'passkey-offer', { title: 'You are signed in', uid, csrf: csrfToken(csrfSecret, uid) });
}

export function registrationOptions(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const { interaction } = await readInteractionJson(ctx, deps);
    const held = await heldLogin(deps.store, interaction.uid);
    if (!held) throw new HttpError(400, 'Sign in with your selfie first.');
    const account = await deps.accounts.findById(held.accountId);
    if (!account) throw new HttpError(400, 'This account no longer exists.');
    ctx.body = await deps.passkeys.registrationOptions(account, interaction.uid);
  };
}

export function registerPasskey(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const { body, interaction } = await readInteractionJson(ctx, deps);
    const held = await heldLogin(deps.store, interaction.uid);
    if (!held) throw new HttpError(400, 'Sign in with your selfie first.');
    const passkey = await deps.passkeys.register(held.accountId, interaction.uid, body as unknown as RegistrationResponseJSON, ensureDeviceCookie(ctx));
    (ctx.state.log as { info: Function } | undefined)?.info({ accountId: held.accountId, credentialId: passkey.id, deviceType: passkey.deviceType }, 'passkey registered');
    ctx.body = { next: `/interaction/${interaction.uid}/finish` };
  };
}

/** Finishes a held login: "Not now" (a form POST) or after a registration (GET from the page script). */
export function finish(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const interaction = ctx.method === 'POST' ? (await readInteractionForm(ctx, deps)).interaction : await loadInteraction(ctx, deps.provider);
    if (!(await finishHeldLogin(ctx, deps.provider, deps.store, interaction.uid))) throw new HttpError(400, 'There is no sign-in to finish here. Start again from the application.');
  };
}

export function authenticationOptions(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const { body, interaction } = await readInteractionJson(ctx, deps);
    const email = typeof body.email === 'string' ? body.email.trim().slice(0, 254) : '';
    let accountId: string | undefined;
    if (email) {
      // Says whether the email has a passkey, as the login page says whether it has a face: limited per IP.
      await countLookup(ctx, deps);
      const account = await deps.accounts.findByEmail(email);
      if (!account?.enrolledAt) throw new HttpError(400, 'There is no account with this email yet.');
      // Now that the account is known: without a passkey, the next requested value (a selfie), or
      // back to the application with unmet_authentication_requirements; never a page that cannot finish.
      const plan = await signinPlan(deps, interaction, account);
      if (!('target' in plan)) {
        await holdLogin(deps.store, interaction.uid, { error: 'unmet' }, interactionTtl(interaction));
        ctx.body = { next: `/interaction/${interaction.uid}/finish` };
        return;
      }
      if (plan.target !== ACR.mfa && plan.target !== ACR.passkey) {
        ctx.body = { next: await startVerification(ctx, deps.verification, { interaction, account, purpose: 'login', method: plan.method }) };
        return;
      }
      accountId = account.id;
    }
    ctx.body = await deps.passkeys.authenticationOptions(interaction.uid, accountId);
  };
}

export function authenticatePasskey(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const { body, interaction } = await readInteractionJson(ctx, deps);
    const proof = await deps.passkeys.authenticate(interaction.uid, body as unknown as AuthenticationResponseJSON);
    const account = await deps.accounts.findById(proof.accountId);
    if (!account?.enrolledAt) throw new HttpError(403, 'This passkey cannot be used for this account.');
    // Another factor succeeded: the face throttle of the account starts again (throttle.ts).
    await deps.verification.throttle.reset(account.id);
    await rememberPasskeyProof(deps.store, interaction.uid, proof, interactionTtl(interaction));
    (ctx.state.log as { info: Function } | undefined)?.info({ accountId: account.id, credentialId: proof.credentialId }, 'passkey verified');
    const plan = await signinPlan(deps, interaction, account, proof);
    if ('unmet' in plan || 'pending' in plan) {
      await holdLogin(deps.store, interaction.uid, { error: 'unmet' }, interactionTtl(interaction));
      ctx.body = { next: `/interaction/${interaction.uid}/finish` };
      return;
    }
    if (plan.target === ACR.passkey) {
      const achieved = { passkey: { hardware: proof.hardware, userVerified: proof.userVerified } };
      await holdLogin(deps.store, interaction.uid, { accountId: account.id, amr: amrFor(achieved), acr: ACR.passkey, ts: Math.floor(Date.now() / 1000) }, interactionTtl(interaction));
      ctx.body = { next: `/interaction/${interaction.uid}/finish` };
      return;
    }
    // mfa: the selfie next, for the passkey's account, in the same interaction.
    ctx.body = { next: await startVerification(ctx, deps.verification, { interaction, account, purpose: 'login', method: plan.method }) };
  };
}
