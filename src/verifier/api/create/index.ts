// POST /v3/session/ — create a verification session. Read top to bottom.
import type { Context } from 'koa';
import type { VerifierDeps } from '../../deps.ts';
import { withLock } from '../../lock.ts';
import { toCreateResponse } from '../../sessions/decision.ts';
import { analysePortrait } from './analyse-portrait.ts';
import { createRecord } from './create-record.ts';
import { findWorkflow } from './find-workflow.ts';
import { parseCreateRequest } from './parse-request.ts';
import { reuseUnfinished } from './reuse-unfinished.ts';

export function createSession(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const input = await parseCreateRequest(ctx);
    const workflow = findWorkflow(deps, input.workflow_id);
    const portrait = await analysePortrait(deps, input.portrait_image, workflow);
    // Two concurrent requests for the same user and workflow must end up with one session.
    const lockName = input.vendor_data === undefined ? undefined : `create:${workflow.workflow_id}:${input.vendor_data}`;
    const open = async () => (await reuseUnfinished(deps, input, portrait)) ?? (await createRecord(deps, input, workflow, portrait));
    const record = lockName ? await withLock(deps.store, lockName, open) : await open();
    ctx.status = 201;
    ctx.body = toCreateResponse(deps.config.publicUrl, record);
  };
}
