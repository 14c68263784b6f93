// Upload grants: each load of the hosted page gets one random, single-use grant bound to the
// session token, valid until the capture window closes. Only the newest page load's grant counts
// (the session record names it), so a stale tab or a replayed upload is refused.
import { randomBytes } from 'node:crypto';
import type { Store } from '../../store/index.ts';
import { ttlSeconds } from '../durations.ts';
import { K } from '../keys.ts';

export type UploadGrant = { session_id: string; session_token: string; handoff: boolean };

export function newUploadId(): string {
  return randomBytes(18).toString('base64url');
}

export async function saveGrant(store: Store, id: string, grant: UploadGrant, validForMs: number): Promise<void> {
  await store.set(K.upload(id), grant, { ttl: ttlSeconds(validForMs) });
}

/** Atomic: of two uploads racing with the same grant, exactly one gets it. */
export async function takeGrant(store: Store, id: string): Promise<UploadGrant | undefined> {
  return store.take<UploadGrant>(K.upload(id));
}
