// POST /session/<token>/capture — the hosted page's upload. Read top to bottom; the raw image
// lives only in this function's scope unless the workflow retains media.
import type { Context } from 'koa';
import type { VerifierDeps } from '../deps.ts';
import { ApiError } from '../http/errors.ts';
import { analyseCapture, EngineBusy } from './analyse-capture.ts';
import { claimUpload } from './claim-upload.ts';
import { commitVerdict } from './commit.ts';
import { enrolIfApproved, pendingTemplateFor, sealCapturedFace } from './enrol.ts';
import { followTemplate } from './follow-template.ts';
import { judge, judgeUnusable } from './judge.ts';
import { reissueGrant } from './keep-open.ts';
import { readCapture } from './read-capture.ts';
import { completeResponse } from './respond.ts';
import { retainMedia } from './retain-media.ts';
import { screenFace } from './screen-face.ts';
import { releaseTemplate } from '../templates.ts';

export function handleCapture(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const claimed = await claimUpload(deps, ctx);
    const capture = await readCapture(ctx, claimed.workflow, claimed.challenge);

    // Over capacity (face engine or liveness workers): the page gets a fresh grant and retries.
    const unlessBusy = async <T>(work: () => Promise<T>): Promise<T> => {
      try {
        return await work();
      } catch (err) {
        if (!(err instanceof EngineBusy)) throw err;
        const { uploadToken } = await reissueGrant(deps, claimed, false);
        throw new ApiError(503, { outcome: 'busy', upload_token: uploadToken }, { 'Retry-After': '2' });
      }
    };
    const result = await unlessBusy(() => analyseCapture(deps, capture));

    if ('refusal' in result && claimed.record.capture_attempts + 1 < claimed.workflow.max_capture_attempts) {
      const { uploadToken, attemptsLeft } = await reissueGrant(deps, claimed, true);
      ctx.status = 422;
      ctx.body = { outcome: 'retry', reason: result.refusal.reason, upload_token: uploadToken, attempts_left: attemptsLeft };
      return;
    }

    const { media, urls } = await retainMedia(deps, claimed, capture.image);
    if ('refusal' in result) {
      const verdict = await judgeUnusable(ctx, claimed, result.refusal.risk, urls);
      const record = await commitVerdict(deps, claimed, verdict, media, null);
      ctx.body = completeResponse(record, claimed.grant.handoff);
      return;
    }

    const judged = await unlessBusy(() => judge(deps, ctx, claimed, capture, result.analysis, urls));
    const screened = await screenFace(deps, claimed, judged, result.analysis);
    const { verdict, enrolled } = await enrolIfApproved(deps, claimed, screened, result.analysis);
    const sealedFace = sealCapturedFace(deps, result.analysis);
    let record;
    try {
      record = await commitVerdict(deps, claimed, verdict, media, pendingTemplateFor(claimed, verdict, sealedFace), sealedFace);
    } catch (err) {
      // The verdict was not stored: neither is the enrolment it claimed.
      if (enrolled) await releaseTemplate(deps.store, claimed.record.vendor_data!, claimed.record.session_id);
      throw err;
    }
    await followTemplate(deps, record, result.analysis);
    ctx.body = completeResponse(record, claimed.grant.handoff);
  };
}
