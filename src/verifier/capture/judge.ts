// Step 5: run the workflow's features on the capture and combine them into the session status.
import type { Context } from 'koa';
import type { FaceAnalysis } from '../../face/index.ts';
import type { VerifierDeps } from '../deps.ts';
import { blocksForUnusableCapture, runFeatureSteps, sessionStatusOf } from '../steps/index.ts';
import type { Capture, FeatureBlocks, StepInput } from '../steps/types.ts';
import type { ClaimedUpload } from './claim-upload.ts';

export type Verdict = FeatureBlocks & { status: ReturnType<typeof sessionStatusOf> };

export function clientOf(ctx: Context): StepInput['client'] {
  return { ip: ctx.ip || null, userAgent: ctx.get('user-agent') || null };
}

export async function judge(deps: VerifierDeps, ctx: Context, claimed: ClaimedUpload, capture: Capture, analysis: FaceAnalysis, media: StepInput['media']): Promise<Verdict> {
  const blocks = await runFeatureSteps({ deps, session: claimed.record, workflow: claimed.workflow, capture, challenge: claimed.challenge, analysis, client: clientOf(ctx), media });
  return { ...blocks, status: sessionStatusOf(blocks, claimed.workflow) };
}

/** The verdict on a capture that never showed a usable face, after the last allowed attempt. */
export async function judgeUnusable(ctx: Context, claimed: ClaimedUpload, risk: string, media: StepInput['media']): Promise<Verdict> {
  const blocks = await blocksForUnusableCapture({ workflow: claimed.workflow, client: clientOf(ctx), media }, risk);
  return { ...blocks, status: sessionStatusOf(blocks, claimed.workflow) };
}
