// What this sign-in aims for (docs/signin.md, "acr and amr"): the first requested acr that the
// client, the account and the configured services can reach. An unreachable request ends the
// interaction with the standard OIDC error `unmet_authentication_requirements` (OpenID Connect
// Core 1.0, errata set 2, 3.1.2.6) at the client's redirect_uri: never a page that cannot finish.
import type { Context } from 'koa';
import type { Account } from '../accounts.ts';
import { methodFor, planAcr, requestedAcrs } from '../signin/acr.ts';
import type { AcrValue, LivenessMethod } from '../signin/acr.ts';
import type { Interaction, InteractionDeps } from './context.ts';
import type { PasskeyProof } from '../passkeys/passkeys.ts';

export type SigninPlan = { target: AcrValue; method: LivenessMethod } | { unmet: string } | { pending: true };

/** `proof`: the passkey this sign-in already verified (its account is the one that signs in). */
export async function signinPlan(deps: InteractionDeps, interaction: Interaction, account: Account | undefined, proof?: PasskeyProof): Promise<SigninPlan> {
  const client = await deps.provider.Client.find(String(interaction.params.client_id));
  const challenge = Object.values(deps.verification.settings.challengeWorkflowIds ?? {}).some(Boolean);
  const plan = planAcr(requestedAcrs(interaction.params), {
    challenge,
    passkeys: true,
    accountHasPasskey: proof && account && proof.accountId === account.id ? true : account ? await deps.passkeys.has(account.id) : undefined,
    clientAllowsPasskeyOnly: (client as unknown as { allow_passkey_only?: boolean } | undefined)?.allow_passkey_only === true,
  });
  return 'target' in plan ? { target: plan.target, method: methodFor(plan.target) } : plan;
}

/** Back to the client with `unmet_authentication_requirements` (oidc-provider answers with its 303). */
export async function finishUnmet(ctx: Context, deps: Pick<InteractionDeps, 'provider'>, description: string): Promise<void> {
  (ctx.state.log as { info: Function } | undefined)?.info({ description }, 'requested acr cannot be met');
  ctx.respond = false;
  await deps.provider.interactionFinished(ctx.req, ctx.res, { error: 'unmet_authentication_requirements', error_description: description }, { mergeWithLastSubmission: false });
}
