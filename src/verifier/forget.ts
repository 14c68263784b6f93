// Erasure of everything the verifier holds about one vendor_data (an account): its template, its
// sessions and their media; its blocklisted faces stay blocklisted but stop naming it. Every
// instance's 1:N index drops the template at its next catch-up (faces/changes.ts). Used by
// `selfie-idp users delete`.
import type { Store } from '../store/index.ts';
import { K } from './keys.ts';
import { loadSession, removeSession, sessionsIn } from './sessions/repo.ts';
import { withLock } from './lock.ts';
import { deleteTemplate } from './templates.ts';
import { unlinkVendor } from './faces/blocklist.ts';

export async function forgetVendor(store: Store, vendorData: string): Promise<{ template: boolean; sessions: number }> {
  const sessions = await sessionsIn(store, K.vendorSessions(vendorData));
  // Under each session's lock, as every change is (sessions/transition.ts): a capture or timer
  // finishing at this moment cannot save the session back after it was removed.
  for (const { session_id } of sessions) {
    await withLock(store, `session:${session_id}`, async () => {
      const record = await loadSession(store, session_id);
      if (record) await removeSession(store, record);
    });
  }
  await store.delete(K.vendorSessions(vendorData));
  await unlinkVendor(store, vendorData);
  return { template: await deleteTemplate(store, vendorData), sessions: sessions.length };
}
