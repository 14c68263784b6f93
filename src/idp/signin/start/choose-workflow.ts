// Step: which workflow a login uses. The liveness method is the risk policy's (device, network:
// ../risk.ts) or the acr request's, whichever is stronger, with every reason; the workflow is the
// service's workflow for that method. The reasons go to the session's metadata and the log.
import type { Context } from 'koa';
import { HttpError } from '../../../http/body.ts';
import type { LivenessMethod } from '../acr.ts';
import { assessRisk, stronger } from '../risk.ts';
import type { RiskReason } from '../risk.ts';
import type { Verification, VerificationSettings } from '../verification.ts';

export type WorkflowChoice = { id: string; method: LivenessMethod; reasons: (RiskReason | 'challenge_unavailable')[] };

/**
 * A challenge the policy wants but no workflow offers falls back to PASSIVE, said in the reasons and
 * the log as a warning (an acr that needs one never gets here: it is unreachable, acr-plan.ts).
 */
export async function chooseWorkflow(
  ctx: Context,
  verification: Verification,
  { accountId, deviceId, requested }: { accountId: string; deviceId: string; requested: LivenessMethod },
): Promise<WorkflowChoice> {
  const decision = await assessRisk(verification.risk, { accountId, deviceId, ip: ctx.ip });
  const reasons: WorkflowChoice['reasons'] = [...decision.reasons];
  let method = stronger(decision.method, requested);
  if (method !== decision.method) reasons.push('acr_requested');
  const challenges = verification.settings.challengeWorkflowIds ?? {};
  if (method !== 'PASSIVE' && !challenges.ACTIVE_3D && !challenges.FLASHING) {
    method = 'PASSIVE';
    reasons.push('challenge_unavailable');
  }
  const workflow = signinWorkflow(verification.settings, method);
  const log = ctx.state.log as { info: Function; warn: Function } | undefined;
  (reasons.includes('challenge_unavailable') ? log?.warn : log?.info)?.call(log, { accountId, method: workflow.method, reasons, ip: decision.ip }, 'risk policy');
  return { ...workflow, reasons };
}

/**
 * The sign-in workflow for a liveness method: PASSIVE is the re-auth workflow; a challenge is the
 * configured ACTIVE_3D or FLASHING one (the other when only one is configured). The method recorded
 * is the workflow's, which is what the acr is earned from.
 */
export function signinWorkflow(settings: VerificationSettings, method: LivenessMethod): { id: string; method: LivenessMethod } {
  if (method === 'PASSIVE') return { id: settings.reauthWorkflowId, method };
  const ids = settings.challengeWorkflowIds ?? {};
  const other: LivenessMethod = method === 'ACTIVE_3D' ? 'FLASHING' : 'ACTIVE_3D';
  const id = ids[method] ?? ids[other as 'ACTIVE_3D' | 'FLASHING'];
  if (!id) throw new HttpError(503, 'This sign-in needs a check that is not available just now. Try again later.');
  return { id, method: ids[method] ? method : other };
}
