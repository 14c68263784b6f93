// Erasure of everything the verifier holds about one vendor_data (an account): its template, its
// sessions and their media. Used by `selfie-idp users delete`.
import type { Store } from '../store/index.ts';
import { K } from './keys.ts';
import { removeSession, sessionsIn } from './sessions/repo.ts';
import { deleteTemplate } from './templates.ts';

export async function forgetVendor(store: Store, vendorData: string): Promise<{ template: boolean; sessions: number }> {
  const sessions = await sessionsIn(store, K.vendorSessions(vendorData));
  for (const record of sessions) await removeSession(store, record);
  await store.delete(K.vendorSessions(vendorData));
  return { template: await deleteTemplate(store, vendorData), sessions: sessions.length };
}
