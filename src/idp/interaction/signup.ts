// Sign-up: email and display name, then an enrolment (kyc) verification session. The account is
// usable once that session is Approved (the verifier then holds the face template).
//
// The address is confirmed after the enrolment, by a link in a mail (src/idp/email): until then
// email_verified is false, and an account never confirmed is erased after
// signup.unverifiedAccountDays. An unenrolled account can be claimed by whoever completes its
// enrolment first, an enrolled one never through this page, a reset one only by the sign-in the
// reset authorised.
import type { Context } from 'koa';
import { z } from 'zod';
import { renderPage } from '../views.ts';
import { csrfToken } from './csrf.ts';
import { clientName, countLookup, ensureDeviceCookie, loadInteraction, readInteractionForm } from './context.ts';
import type { Interaction, InteractionDeps } from './context.ts';
import { startVerification } from '../signin/start/index.ts';
import { mayStartReenrolment } from '../signin/reenrolment.ts';

const signupSchema = z.object({
  email: z.email('Enter a valid email address.').max(254),
  name: z.string().trim().min(1, 'Enter a display name.').max(100, 'Use at most 100 characters.'),
});

async function renderSignup(ctx: Context, deps: InteractionDeps, interaction: Interaction, values: { email: string; name: string }, notice: string | null, status = 200) {
  await renderPage(
    ctx,
    'signup',
    {
      uid: interaction.uid,
      clientName: await clientName(deps.provider, interaction),
      csrf: csrfToken(deps.csrfSecret, interaction.uid),
      ...values,
      notice,
    },
    status,
  );
}

export function showSignup(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const interaction = await loadInteraction(ctx, deps.provider);
    ensureDeviceCookie(ctx);
    const email = typeof ctx.query.email === 'string' ? ctx.query.email : '';
    await renderSignup(ctx, deps, interaction, { email, name: '' }, null);
  };
}

export function submitSignup(deps: InteractionDeps) {
  return async (ctx: Context) => {
    const { form, interaction } = await readInteractionForm(ctx, deps);
    const values = { email: (form.get('email') ?? '').trim(), name: (form.get('name') ?? '').trim() };
    const parsed = signupSchema.safeParse(values);
    if (!parsed.success) return renderSignup(ctx, deps, interaction, values, parsed.error.issues[0]!.message, 400);
    await countLookup(ctx, deps);
    const existing = await deps.accounts.findByEmail(parsed.data.email);
    // An account whose face was reset answers like an enrolled one unless this sign-in is the one
    // the reset allows (its grant cookie, or a passkey of the account): nobody learns that a reset
    // is pending, and knowing the email never takes the account (src/idp/signin/reenrolment.ts).
    if (existing?.enrolledAt || (existing && !(await mayStartReenrolment(ctx, deps, interaction, existing)))) {
      return renderSignup(ctx, deps, interaction, values, 'An account with this email already exists. Sign in instead.', 409);
    }
    // A sign-up's account expires unless its address is confirmed (src/idp/email).
    const account = existing ?? (await deps.accounts.create({ ...parsed.data, unverifiedUntil: deps.emails.unverifiedDeadline() })).account;
    ctx.status = 303;
    ctx.redirect(await startVerification(ctx, deps.verification, { interaction, account, purpose: 'enrol' }));
  };
}
