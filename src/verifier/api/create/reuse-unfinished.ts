// Step 4a: as the real service does, an unfinished session (Not Started, In Progress,
// Resubmitted) of the same workflow and vendor_data is handed back, with the new callback,
// metadata (and portrait, language) applied, instead of opening a second one.
import { UNFINISHED_SESSION_STATUSES } from '../../../didit/index.ts';
import type { CreateSessionInput } from '../../../didit/index.ts';
import type { VerifierDeps } from '../../deps.ts';
import { K } from '../../keys.ts';
import { sessionsIn } from '../../sessions/repo.ts';
import { updateSession } from '../../sessions/transition.ts';
import type { SessionRecord } from '../../sessions/types.ts';
import type { Portrait } from './analyse-portrait.ts';

export async function reuseUnfinished(deps: VerifierDeps, input: CreateSessionInput, portrait: Portrait | undefined): Promise<SessionRecord | undefined> {
  if (input.vendor_data === undefined) return undefined;
  const unfinished = (await sessionsIn(deps.store, K.vendorSessions(input.vendor_data))).find(
    (r) => r.workflow_id === input.workflow_id && (UNFINISHED_SESSION_STATUSES as readonly string[]).includes(r.status) && r.expires_at > Date.now(),
  );
  if (!unfinished) return undefined;
  const result = await updateSession(deps, unfinished.session_id, (r) => {
    if (!(UNFINISHED_SESSION_STATUSES as readonly string[]).includes(r.status)) return undefined;
    return {
      ...r,
      callback: input.callback ?? r.callback,
      callback_method: input.callback_method ?? r.callback_method,
      metadata: input.metadata ?? r.metadata,
      language: input.language ?? r.language,
      reference: portrait?.reference ?? r.reference,
    };
  });
  // It finished (or expired) between the lookup and the lock: open a new one instead.
  return result?.changed ? result.record : undefined;
}
