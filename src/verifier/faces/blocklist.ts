// The face blocklist in the store: one entry per blocklisted session, holding that session's face
// as a sealed template (AES-256-GCM under the template keyring, like an enrolment). Entries are
// durable; they name the session and account they came from until that account is erased, after
// which the face stays blocklisted but names no one (unlinkVendor).
import { randomUUID } from 'node:crypto';
import type { JsonObject, Store } from '../../store/index.ts';
import { K } from '../keys.ts';
import { withLock } from '../lock.ts';
import type { SessionRecord } from '../sessions/types.ts';
import { loadTemplate } from '../templates.ts';
import { faceRemoved, faceStored } from './changes.ts';

export type BlocklistRecord = {
  entry_id: string;
  sealed: string;
  session_id: string | null;
  vendor_data: string | null;
  created_at: string;
};

/**
 * The face a session showed, sealed: the one its capture left (face_template), else the
 * enrolment it waits to make or made (sessions captured before face_template existed).
 */
export async function sessionFace(store: Store, record: SessionRecord): Promise<string | null> {
  if (record.face_template) return record.face_template;
  if (record.pending_template) return record.pending_template;
  if (record.workflow_type === 'kyc' && record.vendor_data !== null) {
    const enrolled = await loadTemplate(store, record.vendor_data);
    if (enrolled?.source_session_id === record.session_id) return enrolled.sealed;
  }
  return null;
}

export async function loadBlocklistEntry(store: Store, entryId: string): Promise<BlocklistRecord | undefined> {
  return store.get<BlocklistRecord>(K.blocklistEntry(entryId));
}

/** Blocklist a session's face; false when it is blocklisted already (nothing changes). */
export async function blockSessionFace(store: Store, record: SessionRecord, sealed: string): Promise<boolean> {
  return withLock(store, `blocklist:${record.session_id}`, async () => {
    const existing = await store.get<string>(K.blocklistBySession(record.session_id));
    if (existing && (await loadBlocklistEntry(store, existing))) return false;
    const entry: BlocklistRecord = { entry_id: randomUUID(), sealed, session_id: record.session_id, vendor_data: record.vendor_data, created_at: new Date().toISOString() };
    await store.set(K.blocklistEntry(entry.entry_id), entry as unknown as JsonObject);
    await store.set(K.blocklistBySession(record.session_id), entry.entry_id);
    await store.indexAdd(K.blocklist(), entry.entry_id);
    if (record.vendor_data !== null) await store.indexAdd(K.blocklistByVendor(record.vendor_data), entry.entry_id);
    await faceStored(store, 'blocked', entry.entry_id);
    return true;
  });
}

/** Take a session's face off the blocklist; false when it was not on it. */
export async function unblockSessionFace(store: Store, sessionId: string): Promise<boolean> {
  return withLock(store, `blocklist:${sessionId}`, async () => {
    const entryId = await store.get<string>(K.blocklistBySession(sessionId));
    if (!entryId) return false;
    const entry = await loadBlocklistEntry(store, entryId);
    await store.delete(K.blocklistEntry(entryId), K.blocklistBySession(sessionId));
    await store.indexRemove(K.blocklist(), entryId);
    if (entry?.vendor_data) await store.indexRemove(K.blocklistByVendor(entry.vendor_data), entryId);
    await faceRemoved(store, 'blocked', entryId);
    return entry !== undefined;
  });
}

export async function listBlocklist(store: Store): Promise<BlocklistRecord[]> {
  const ids = await store.indexMembers(K.blocklist());
  const entries = await Promise.all(ids.map((id) => loadBlocklistEntry(store, id)));
  return entries.filter((e): e is BlocklistRecord => e !== undefined).sort((a, b) => a.created_at.localeCompare(b.created_at));
}

/**
 * Erasure of an account: its blocklisted faces stay blocklisted (an erasure request must not be a
 * way off the blocklist) but no longer name the account or its sessions.
 */
export async function unlinkVendor(store: Store, vendorData: string): Promise<number> {
  const ids = await store.indexMembers(K.blocklistByVendor(vendorData));
  for (const id of ids) {
    const entry = await loadBlocklistEntry(store, id);
    if (!entry) continue;
    if (entry.session_id) await store.delete(K.blocklistBySession(entry.session_id));
    // Rewritten whole, not patched: on Redis a patch adds fields beside the original value, which
    // would keep the erased account's id in the stored hash.
    await store.set(K.blocklistEntry(id), { ...entry, session_id: null, vendor_data: null } as unknown as JsonObject);
    await faceStored(store, 'blocked', id);
  }
  await store.delete(K.blocklistByVendor(vendorData));
  return ids.length;
}
