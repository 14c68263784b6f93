// DELETE /v3/session/{id}/delete/ — the session, its token, its upload grant and its media are
// gone at once. An enrolled template belongs to the vendor_data (the account), not the session,
// and stays: deleting the account deletes it (templates.ts deleteTemplate).
import type { Context } from 'koa';
import type { VerifierDeps } from '../deps.ts';
import { withLock } from '../lock.ts';
import { loadSession, removeSession } from '../sessions/repo.ts';
import { sessionOr404 } from './load-session.ts';

export function deleteSession(deps: VerifierDeps) {
  return async (ctx: Context) => {
    const { session_id } = await sessionOr404(deps, ctx.params.id);
    await withLock(deps.store, `session:${session_id}`, async () => {
      const record = await loadSession(deps.store, session_id);
      if (record) await removeSession(deps.store, record);
    });
    ctx.status = 204;
  };
}
