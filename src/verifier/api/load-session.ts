// The session an API path names, or the contract's 404. Ids are UUIDs; anything else cannot exist.
import type { VerifierDeps } from '../deps.ts';
import { NOT_FOUND } from '../http/errors.ts';
import { loadSession } from '../sessions/repo.ts';
import type { SessionRecord } from '../sessions/types.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function sessionOr404(deps: Pick<VerifierDeps, 'store'>, id: string | undefined): Promise<SessionRecord> {
  if (!id || !UUID.test(id)) throw NOT_FOUND();
  const record = await loadSession(deps.store, id.toLowerCase());
  if (!record) throw NOT_FOUND();
  return record;
}
