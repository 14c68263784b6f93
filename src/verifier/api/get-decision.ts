// GET /v3/session/{id}/decision/ — the session and its feature blocks (null until they ran).
import type { Context } from 'koa';
import type { VerifierDeps } from '../deps.ts';
import { toDecision } from '../sessions/decision.ts';
import { sessionOr404 } from './load-session.ts';

export function getDecision(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const record = await sessionOr404(deps, ctx.params.id);
    ctx.body = toDecision(deps.config.publicUrl, record);
  };
}
