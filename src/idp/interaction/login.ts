// The login prompt: who are you (login_hint or an email), then, after one press on "Continue with
// a selfie", the capture page.
//
// A login_hint only fills the email in. Starting a verification is a state change (it opens a
// session at the service, counts against the per-IP lookup limit, and ends another sign-in's
// unfinished capture for the same account: docs/signin.md), so it follows a press on our page,
// a CSRF-checked POST, never a GET that a link scanner, a prefetch or another site can trigger.
//
// What the page reveals: after an email is submitted it says whether that email has an enrolled
// account (and offers sign-up if not). A face is still needed to sign in, so knowing an account
// exists gains an attacker nothing but the fact; lookups are rate limited per IP to stop bulk
// enumeration. See docs/signin.md.
import type { Context } from 'koa';
import { renderPage } from '../views.ts';
import { csrfToken } from './csrf.ts';
import { clientName, countLookup, ensureDeviceCookie, loadInteraction, readInteractionForm } from './context.ts';
import type { Interaction, InteractionDeps } from './context.ts';
import { showConsent } from './consent.ts';
import { startVerification } from '../signin/start/index.ts';
import { finishUnmet, signinPlan } from './acr-plan.ts';
import type { SigninPlan } from './acr-plan.ts';
import { renderPasskeyLogin } from './passkey.ts';
import { ACR } from '../signin/acr.ts';

/** An mfa or passkey-only sign-in starts with the passkey (then the selfie, for mfa). */
const startsWithPasskey = (plan: SigninPlan) => 'pending' in plan || ('target' in plan && (plan.target === ACR.mfa || plan.target === ACR.passkey));
const selfieToo = (plan: SigninPlan) => !('target' in plan && plan.target === ACR.passkey);

const NOTICES: Record<string, string> = {
  unfinished: 'Your selfie was not finished. Try again when you are ready.',
  unknown: 'There is no account with this email yet. Check it, or create an account.',
};

async function renderLogin(ctx: Context, deps: InteractionDeps, interaction: Interaction, email: string, notice: string | undefined) {
  await renderPage(ctx, 'login', {
    uid: interaction.uid,
    clientName: await clientName(deps.provider, interaction),
    csrf: csrfToken(deps.csrfSecret, interaction.uid),
    email,
    notice: notice ? NOTICES[notice] ?? null : null,
  });
}

export function showPrompt(deps: InteractionDeps) {
  const consent = showConsent(deps);
  return async (ctx: Context) => {
    const interaction = await loadInteraction(ctx, deps.provider);
    if (interaction.prompt.name === 'consent') return consent(ctx, interaction);
    // An acr this client or this IdP can never give: back to the application now.
    const plan = await signinPlan(deps, interaction, undefined);
    if ('unmet' in plan) return finishUnmet(ctx, deps, plan.unmet);
    ensureDeviceCookie(ctx);
    const notice = typeof ctx.query.notice === 'string' ? ctx.query.notice : undefined;
    const hint = typeof interaction.params.login_hint === 'string' ? interaction.params.login_hint.slice(0, 254) : '';
    if (startsWithPasskey(plan)) return renderPasskeyLogin(ctx, deps, interaction, hint, selfieToo(plan));
    await renderLogin(ctx, deps, interaction, hint, notice);
  };
}

export function submitLogin(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const { form, interaction } = await readInteractionForm(ctx, deps);
    const email = (form.get('email') ?? '').trim();
    if (!email) return renderLogin(ctx, deps, interaction, '', undefined);
    await countLookup(ctx, deps);
    const account = await deps.accounts.findByEmail(email);
    // An account without a face (a sign-up not finished, or a reset waiting for re-enrolment) gets
    // the unknown email's answer: a re-probe read pending resets off a notice of their own. Both
    // lead to "Create an account", which is where either person goes next.
    if (!account?.enrolledAt) return renderLogin(ctx, deps, interaction, email, 'unknown');
    const plan = await signinPlan(deps, interaction, account);
    if (!('target' in plan)) return finishUnmet(ctx, deps, 'unmet' in plan ? plan.unmet : 'The requested authentication context cannot be met.');
    if (startsWithPasskey(plan)) return renderPasskeyLogin(ctx, deps, interaction, email, selfieToo(plan), 'This application asks for your passkey first.');
    ctx.status = 303;
    ctx.redirect(await startVerification(ctx, deps.verification, { interaction, account, purpose: 'login', method: plan.method }));
  };
}
